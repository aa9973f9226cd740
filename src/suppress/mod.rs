//! What hides a finding: inline `# adlint: ignore[...]` directives ([`inline`]) and a
//! baseline file of the findings a project already had ([`baseline`]).

pub mod baseline;
pub mod inline;

pub use inline::{apply, directives, Directive};
