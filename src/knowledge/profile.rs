//! Backend profiles: what one AD backend supports and how it fails, from
//! `knowledge/profiles/*.toml`. The call graph asks a profile which entries it analyses and
//! what `f'(x)` means; the analysis asks it whether a finding's construct fails under the
//! backend of the finding's entry, and how severe it may be; messages take its name. Only
//! Zygote's profile ships; `Knowledge::add_profile` takes more (the tests add a toy one).

use crate::backend::Backend;
use crate::diagnostic::{Category, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;

pub(super) const ZYGOTE: &str = include_str!("profiles/zygote.toml");

/// One backend's profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub backend: Backend,
    /// As messages name it: `Zygote`.
    pub name: String,
    /// Whether adlint follows what this backend's entries differentiate. Entries of other
    /// backends are counted in the summary and not analysed.
    pub analysed: bool,
    /// The packages through which `f'(x)` differentiates `f` with this backend.
    #[serde(default)]
    pub adjoint_operator: Vec<String>,
    /// Per category of finding (`mutation`, `try-catch` ...): whether the construct fails
    /// under this backend, and the highest severity its findings get.
    #[serde(default)]
    constructs: BTreeMap<String, Construct>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Construct {
    fails: bool,
    #[serde(default)]
    severity: Option<Severity>,
    source: String,
}

/// Why a profile's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProfileError(pub String);

impl Profile {
    /// A profile from its TOML text: every category named must be one of adlint's, every
    /// construct must name its source.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let p: Profile = toml::from_str(text).map_err(|e| ProfileError(e.to_string()))?;
        if p.backend == Backend::Unknown {
            return Err(ProfileError(
                "`unknown` is no backend: it stands for \"may be the default profile's\"".into(),
            ));
        }
        for (category, c) in &p.constructs {
            if Category::parse(category).is_none() {
                return Err(ProfileError(format!(
                    "`{category}` in the profile of {} is not a category of findings",
                    p.name
                )));
            }
            if c.source.trim().is_empty() {
                return Err(ProfileError(format!(
                    "`constructs.{category}` of {} names no source",
                    p.name
                )));
            }
        }
        Ok(p)
    }

    /// Whether code of this category fails when the backend differentiates it. A category
    /// the profile does not list fails: a profile says what it knows to work.
    pub fn fails(&self, category: Category) -> bool {
        self.constructs
            .get(category.as_str())
            .is_none_or(|c| c.fails)
    }

    /// The highest severity of findings of this category under this backend, if capped.
    pub fn severity_cap(&self, category: Category) -> Option<Severity> {
        self.constructs.get(category.as_str())?.severity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zygote_profile_fails_every_construct_it_lists() {
        let p = Profile::parse(ZYGOTE).unwrap();
        assert_eq!(p.backend, Backend::Zygote);
        assert!(p.analysed);
        for c in [Category::Mutation, Category::TryCatch, Category::NestedAd] {
            assert!(p.fails(c));
            assert_eq!(p.severity_cap(c), None);
        }
    }

    #[test]
    fn bad_profiles_are_refused_with_a_reason() {
        let base = "backend = \"mooncake\"\nname = \"M\"\nanalysed = true\nsource = \"s\"\n";
        assert!(Profile::parse(base).is_ok());
        let e = Profile::parse(&format!(
            "{base}[constructs.mutashun]\nfails = false\nsource = \"s\"\n"
        ))
        .unwrap_err();
        assert!(e.0.contains("not a category"), "{e}");
        let e = Profile::parse(&format!(
            "{base}[constructs.mutation]\nfails = false\nsource = \"\"\n"
        ))
        .unwrap_err();
        assert!(e.0.contains("names no source"), "{e}");
        assert!(Profile::parse(
            "backend = \"unknown\"\nname = \"U\"\nanalysed = true\nsource = \"s\"\n"
        )
        .is_err());
        assert!(Profile::parse(&format!("{base}colour = 1\n")).is_err());
    }
}
