//! The walking network of the served model, built once per atlas snapshot: nearest services with
//! routes and isochrones answer from memory.

use wangge_circles::{FacilitySet, Network, NetworkOptions, WalkProfile};
use wangge_core::{Atlas, Catalogue};

/// The walking graph with the model's facilities placed on it.
#[derive(Debug)]
pub struct Engine {
    /// Graph and facilities, or why there are none (no walkable ways imported, say).
    pub ready: Result<(Network, FacilitySet), String>,
    /// Walking speed (the standard profile).
    pub profile: WalkProfile,
}

impl Engine {
    /// Builds the graph from the atlas' ways and places every catalogued facility.
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
        Self { ready, profile: WalkProfile::default() }
    }
}
