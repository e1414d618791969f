//! The standard library, compiled into the binary: `import "std/NAME"` needs no files on disk.

/// `(NAME, source)` for every `std/NAME` module, sorted by name.
pub const MODULES: &[(&str, &str)] = &[
    ("gpu", include_str!("../stdlib/gpu.rwf")),
    ("presets", include_str!("../stdlib/presets.rwf")),
];

pub fn source(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}
