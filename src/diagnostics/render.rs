//! Rendering placeholder.
