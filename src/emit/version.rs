//! `--kuberay-version`: what the target operator accepts (mapping "Target versions").

use std::fmt;
use std::str::FromStr;

/// A KubeRay minor version, 0.6 through 1.7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeRayVersion {
    pub major: u8,
    pub minor: u8,
}

impl KubeRayVersion {
    pub const SUPPORTED: &'static [&'static str] = &["0.6", "1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
    pub const LATEST: KubeRayVersion = KubeRayVersion::new(1, 7);
    /// The first with `ray.io/v1` and `runtimeEnvYAML`.
    pub const V1_0: KubeRayVersion = KubeRayVersion::new(1, 0);
    /// The first with `activeDeadlineSeconds` and `submissionMode`.
    pub const V1_1: KubeRayVersion = KubeRayVersion::new(1, 1);
    /// The first with `backoffLimit`.
    pub const V1_2: KubeRayVersion = KubeRayVersion::new(1, 2);
    /// The first with `SidecarMode`.
    pub const V1_5: KubeRayVersion = KubeRayVersion::new(1, 5);

    pub const fn new(major: u8, minor: u8) -> KubeRayVersion {
        KubeRayVersion { major, minor }
    }
}

impl Default for KubeRayVersion {
    fn default() -> Self {
        KubeRayVersion::LATEST
    }
}

impl fmt::Display for KubeRayVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for KubeRayVersion {
    type Err = String;

    /// `1.7`, `v1.7` or `1.7.0`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.strip_prefix('v').unwrap_or(text);
        let mut parts = trimmed.split('.');
        let parsed = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(major), Some(minor), _, None) => major.parse().ok().zip(minor.parse().ok()),
            _ => None,
        };
        match parsed {
            Some((major, minor)) if KubeRayVersion::SUPPORTED.contains(&format!("{major}.{minor}").as_str()) => {
                Ok(KubeRayVersion::new(major, minor))
            }
            _ => Err(format!(
                "unsupported KubeRay version `{text}`; supported: {}",
                KubeRayVersion::SUPPORTED.join(", ")
            )),
        }
    }
}
