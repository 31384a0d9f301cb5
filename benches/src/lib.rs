//! Criterion benches of the doseprep core live in `benches/`.
