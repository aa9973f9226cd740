//! The AD packages adlint knows by name. What each supports and how it fails is a
//! profile in `knowledge` (`knowledge/profiles/`); this is only their identity.

use serde::Deserialize;

/// The AD package that runs an entry point.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Zygote,
    ForwardDiff,
    Enzyme,
    Mooncake,
    Reactant,
    ReverseDiff,
    Tracker,
    FiniteDiff,
    /// May be Zygote: the backend argument's value is not known.
    Unknown,
}

impl Backend {
    pub const ALL: [Backend; 9] = [
        Backend::Zygote,
        Backend::ForwardDiff,
        Backend::Enzyme,
        Backend::Mooncake,
        Backend::Reactant,
        Backend::ReverseDiff,
        Backend::Tracker,
        Backend::FiniteDiff,
        Backend::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Zygote => "zygote",
            Backend::ForwardDiff => "forwarddiff",
            Backend::Enzyme => "enzyme",
            Backend::Mooncake => "mooncake",
            Backend::Reactant => "reactant",
            Backend::ReverseDiff => "reversediff",
            Backend::Tracker => "tracker",
            Backend::FiniteDiff => "finitediff",
            Backend::Unknown => "unknown",
        }
    }
}
