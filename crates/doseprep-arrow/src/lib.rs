//! doseprep's results as Arrow tables (arrow-rs), for DataFrames: each
//! column's unit in its name (`draw_volume_ml`, `delivered_cells`), times
//! as timestamps in the site's zone, a placebo's dose fields null (never
//! zero), and a failed row's error in `error_kind`, `error_field` and
//! `error_message`. Conversion only: the numbers are the core's.

mod day;
mod ledger;
mod preparations;

pub use day::{day_bags, day_stock, day_thaws};
pub use ledger::{ledger_balances, ledger_events};

pub use preparations::{
    preparations, preparations_schema, Failure, Ordered, PreparationsBuilder, Row,
};
