//! doseprep's results as Arrow tables (arrow-rs), for DataFrames: each
//! column's unit in its name (`draw_volume_ml`, `delivered_cells`), times
//! as timestamps in the site's zone, a placebo's dose fields null (never
//! zero), and a failed row's error in `error_kind`, `error_field` and
//! `error_message`. Conversion only: the numbers are the core's.

mod preparations;

pub use preparations::{preparations, preparations_schema, Failure, PreparationsBuilder, Row};
