//! The walking network of the served model, built once per atlas snapshot: nearest services with
//! routes and isochrones answer from memory.

use wangge_circles::{FacilitySet, Network, NetworkOptions, ServiceFields, WalkProfile};
use wangge_core::{Atlas, Catalogue};

/// The walking graph with the model's facilities placed on it.
#[derive(Debug)]
pub struct Engine {
    /// Graph and facilities, or why there are none (no walkable ways imported, say).
    pub ready: Result<(Network, FacilitySet), String>,
    /// Per-category nearest-facility trees of `ready` (the default nearest-services question
    /// answered without a search); `None` when there is no network.
    pub fields: Option<ServiceFields>,
    /// Walking speed (the standard profile).
    pub profile: WalkProfile,
}

impl Engine {
    /// Builds the graph from the atlas' ways, places every catalogued facility and grows the
    /// nearest-facility trees.
    pub fn build(atlas: &Atlas, catalogue: &Catalogue) -> Self {
        let ready = Network::from_layers(atlas.layers(), &NetworkOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|net| {
                let facilities =
                    net.place_facilities(&atlas.layers().facilities, catalogue).map_err(|e| e.to_string())?;
                Ok((net, facilities))
            });
        if let Err(e) = &ready {
            tracing::warn!("no walking network: {e}");
        }
        let fields = ready.as_ref().ok().map(|(net, facilities)| {
            let fields = net.service_fields(facilities);
            tracing::info!(
                junctions = net.graph().stats().junctions,
                bytes = fields.heap_bytes(),
                "nearest-facility trees built"
            );
            fields
        });
        Self { ready, fields, profile: WalkProfile::default() }
    }
}
