//! Version numbers: Julia's, and the packages' from `Manifest.toml` and configs.

/// `major.minor.patch`; a missing part is 0, a pre-release or build suffix is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>());
        let major = parts.next()?.ok()?;
        let minor = parts.next().unwrap_or(Ok(0)).ok()?;
        let patch = parts.next().unwrap_or(Ok(0)).ok()?;
        // `0.6.70.1` is no version (it read as 0.6.70).
        if parts.next().is_some() {
            return None;
        }
        Some(Version(major, minor, patch))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Versions read from the package's `Manifest.toml`.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    pub zygote: Option<Version>,
    pub flux: Option<Version>,
    pub julia: Option<Version>,
    /// Every package of the manifest with its version (shared: units clone their
    /// versions), for rules that exist only from some version of their package on.
    pub packages: std::sync::Arc<std::collections::BTreeMap<String, Version>>,
}

impl Versions {
    /// The manifest's version of a package, if the manifest is known and holds it.
    pub fn of(&self, package: &str) -> Option<Version> {
        self.packages.get(package).copied()
    }
}
