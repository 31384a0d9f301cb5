//! The gravimetric check of a filled bag: its net mass on a balance against
//! the mass its volumes should weigh (draw × product density + diluent ×
//! diluent density). Wrong volume is the error class IV workflow systems
//! most often leave to the eye; a balance catches it.

use crate::error::{DoseError, Result};
use crate::format;
use crate::prepare::Preparation;
use crate::protocol::Protocol;
use crate::units::{Deviation, Grams};

/// The outcome of weighing a bag.
#[derive(Debug, Clone, PartialEq)]
pub struct WeighedCheck {
    /// True when the weighed mass is within the tolerance of the expected.
    pub ok: bool,
    /// The net mass read from the balance.
    pub weighed: Grams,
    /// The mass the bag's volumes should weigh.
    pub expected: Grams,
    /// Lowest accepted mass.
    pub low: Grams,
    /// Highest accepted mass.
    pub high: Grams,
    /// (weighed − expected) ÷ expected, signed.
    pub deviation: Deviation,
    /// One line for the worksheet or the screen.
    pub message: String,
}

/// Compare a weighed net mass with what the bag should weigh. A protocol
/// without `site.gravimetric` has nothing to compare with: that is an error
/// naming the setting.
pub fn check_weighed(
    protocol: &Protocol,
    prep: &Preparation,
    weighed: Grams,
) -> Result<WeighedCheck> {
    let settings = protocol.site().gravimetric.ok_or_else(|| {
        DoseError::invalid_protocol(
            "site.gravimetric",
            "(unset)",
            "the protocol gives no densities to weigh a bag against; add site.gravimetric = { diluent_density = \"1.005 g/mL\", product_density = \"1.04 g/mL\", tolerance = 0.02 }",
        )
    })?;
    let expected = prep.expected_net_mass.ok_or_else(|| {
        DoseError::invalid_input(
            "preparation",
            "this preparation was made without the gravimetric settings; prepare it again with this protocol",
        )
    })?;
    let tolerance = settings.tolerance.value();
    let low = Grams::new("low", expected.grams() * (1.0 - tolerance))?;
    let high = Grams::new("high", expected.grams() * (1.0 + tolerance))?;
    // The expected net mass is above 0 g: a draw above 0 mL at a density above 0.
    let deviation = Deviation::between(weighed.grams(), expected.grams());
    let ok = weighed >= low && weighed <= high;
    let message = format!(
        "weighed {} g, expected {} g (accepted {}-{} g, ±{}): {} ({})",
        format::decimal(weighed.grams(), 2),
        format::decimal(expected.grams(), 2),
        format::decimal(low.grams(), 2),
        format::decimal(high.grams(), 2),
        format::percent(tolerance),
        if ok {
            "pass"
        } else {
            "FAIL: check the volumes, do not release the bag"
        },
        format::signed_percent(deviation.value()),
    );
    Ok(WeighedCheck {
        ok,
        weighed,
        expected,
        low,
        high,
        deviation,
        message,
    })
}
