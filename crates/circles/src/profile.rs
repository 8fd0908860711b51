//! Walking profiles: the speed that turns distances into times.

use crate::CirclesError;

/// A walking profile: a name and a speed in metres per second.
///
/// ```
/// use wangge_circles::WalkProfile;
/// let p = WalkProfile::elderly();
/// assert_eq!(p.time_s(80.0), 100.0);
/// assert!(WalkProfile::new("tired", 0.0).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WalkProfile {
    name: String,
    speed_mps: f64,
}

impl Default for WalkProfile {
    fn default() -> Self {
        Self { name: "default".into(), speed_mps: Self::DEFAULT_SPEED_MPS }
    }
}

impl WalkProfile {
    /// The default walking speed, 1.2 m/s (the planning standard's assumption).
    pub const DEFAULT_SPEED_MPS: f64 = 1.2;
    /// The elderly profile's speed, 0.8 m/s.
    pub const ELDERLY_SPEED_MPS: f64 = 0.8;

    /// A profile with its own speed. Fails for a speed that is not a positive finite number.
    pub fn new(name: impl Into<String>, speed_mps: f64) -> Result<Self, CirclesError> {
        if !(speed_mps.is_finite() && speed_mps > 0.0) {
            return Err(CirclesError::InvalidSpeed { speed: speed_mps });
        }
        Ok(Self { name: name.into(), speed_mps })
    }

    /// The elderly profile (0.8 m/s).
    pub fn elderly() -> Self {
        Self { name: "elderly".into(), speed_mps: Self::ELDERLY_SPEED_MPS }
    }

    /// A built-in profile by name: `default` or `elderly`.
    pub fn by_name(name: &str) -> Result<Self, CirclesError> {
        match name {
            "default" => Ok(Self::default()),
            "elderly" => Ok(Self::elderly()),
            _ => Err(CirclesError::UnknownProfile { name: name.to_string() }),
        }
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Speed in metres per second.
    pub fn speed_mps(&self) -> f64 {
        self.speed_mps
    }

    /// Seconds to walk `distance_m` metres.
    pub fn time_s(&self, distance_m: f64) -> f64 {
        distance_m / self.speed_mps
    }

    /// Metres walked in `minutes` minutes.
    pub fn distance_m(&self, minutes: f64) -> f64 {
        minutes * 60.0 * self.speed_mps
    }
}
