//! Placeholder: regional minimum wages (UMP/UMK); being written.
