//! What a bag's volume is made of, per the site's mode, with exactly what
//! each mode needs: in `qs` mode the diluent volume is the final volume and
//! limits the draw (a smaller site maximum may limit it further); in
//! `additive` mode the cells are added to the whole diluent volume and the
//! site must say the largest draw the bag takes.
//!
//! Checked once with the protocol, so a bag never meets a mode without its
//! limit, nor a limit of 0 mL.

use crate::error::{DoseError, Result};
use crate::protocol::FinalVolumeMode;
use crate::units::ExactVolume;

/// A bag's volume rule, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BagVolume {
    /// The diluent volume is the final volume: diluent = final − draw.
    Qs {
        /// The final volume (the protocol's diluent volume), above 0 mL.
        final_volume: ExactVolume,
        /// The largest draw: the final volume, or a smaller site maximum.
        draw_limit: DrawLimit,
    },
    /// The cells are added to the diluent: final = diluent + draw.
    Additive {
        /// The diluent volume, above 0 mL.
        diluent: ExactVolume,
        /// The largest draw (`site.max_draw_volume`), above 0 mL.
        max_draw: ExactVolume,
    },
}

/// The largest draw of a `qs` bag, and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawLimit {
    /// The final volume itself.
    FinalVolume,
    /// `site.max_draw_volume`, below the final volume.
    SiteMaximum(ExactVolume),
}

impl BagVolume {
    /// Check the protocol's diluent volume, the site's mode and its largest
    /// draw together.
    pub fn new(
        diluent: ExactVolume,
        mode: FinalVolumeMode,
        max_draw: Option<ExactVolume>,
    ) -> Result<BagVolume> {
        if diluent.is_zero() {
            return Err(DoseError::invalid_protocol(
                "diluent.volume",
                "0 mL",
                "must be above 0 mL",
            ));
        }
        if let Some(max) = max_draw {
            if max.is_zero() {
                return Err(DoseError::invalid_protocol(
                    "site.max_draw_volume",
                    "0 mL",
                    "must be above 0 mL: no dose could be drawn",
                ));
            }
        }
        Ok(match (mode, max_draw) {
            (FinalVolumeMode::Qs, Some(max)) if max < diluent => BagVolume::Qs {
                final_volume: diluent,
                draw_limit: DrawLimit::SiteMaximum(max),
            },
            (FinalVolumeMode::Qs, _) => BagVolume::Qs {
                final_volume: diluent,
                draw_limit: DrawLimit::FinalVolume,
            },
            (FinalVolumeMode::Additive, Some(max_draw)) => {
                BagVolume::Additive { diluent, max_draw }
            }
            (FinalVolumeMode::Additive, None) => {
                return Err(DoseError::invalid_protocol(
                    "site.max_draw_volume",
                    "(unset)",
                    "additive mode needs the largest draw the bag can take, e.g. \"20 mL\"",
                ))
            }
        })
    }

    /// The largest draw, above 0 mL, and why, in words for a message.
    pub fn draw_limit(self) -> (ExactVolume, &'static str) {
        match self {
            BagVolume::Qs {
                draw_limit: DrawLimit::SiteMaximum(max),
                ..
            } => (max, "site.max_draw_volume"),
            BagVolume::Qs { final_volume, .. } => (final_volume, "the final volume in qs mode"),
            BagVolume::Additive { max_draw, .. } => (max_draw, "site.max_draw_volume"),
        }
    }

    /// The final volume of a bag whose active twin draws `draw`, at most
    /// [`BagVolume::draw_limit`]: the fixed volume in `qs` mode, diluent +
    /// draw in `additive` mode.
    pub fn final_volume(self, draw: ExactVolume) -> Result<ExactVolume> {
        match self {
            BagVolume::Qs { final_volume, .. } => Ok(final_volume),
            BagVolume::Additive { diluent, .. } => diluent
                .checked_add(draw)
                .ok_or_else(|| DoseError::invalid_input("draw_volume", "the bag volume overflows")),
        }
    }

    /// The diluent an active bag drawing `draw` takes. `draw` is at most the
    /// draw limit (only `plan_draw` makes a draw, and it refuses a larger
    /// one), so a `qs` bag's diluent is never negative.
    #[expect(
        clippy::expect_used,
        reason = "plan_draw refuses a draw above the limit, which is at most the final volume in qs mode"
    )]
    pub(crate) fn active_diluent(self, draw: ExactVolume) -> ExactVolume {
        match self {
            BagVolume::Qs { final_volume, .. } => final_volume
                .checked_sub(draw)
                .expect("a qs draw is held to the final volume"), // allow-panic: see the reason above
            BagVolume::Additive { diluent, .. } => diluent,
        }
    }

    /// The mode, for the record and the worksheet.
    pub fn mode(self) -> FinalVolumeMode {
        match self {
            BagVolume::Qs { .. } => FinalVolumeMode::Qs,
            BagVolume::Additive { .. } => FinalVolumeMode::Additive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ml(text: &str) -> ExactVolume {
        ExactVolume::parse("volume", text).unwrap()
    }

    #[test]
    fn each_mode_has_what_it_needs_and_no_zero_limit() {
        let qs = BagVolume::new(ml("50 mL"), FinalVolumeMode::Qs, None).unwrap();
        assert_eq!(
            qs.draw_limit(),
            (ml("50 mL"), "the final volume in qs mode")
        );
        assert_eq!(qs.active_diluent(ml("5.8 mL")), ml("44.2 mL"));
        let capped = BagVolume::new(ml("50 mL"), FinalVolumeMode::Qs, Some(ml("20 mL"))).unwrap();
        assert_eq!(capped.draw_limit(), (ml("20 mL"), "site.max_draw_volume"));
        // A site maximum above the final volume does not raise the limit.
        let above = BagVolume::new(ml("50 mL"), FinalVolumeMode::Qs, Some(ml("60 mL"))).unwrap();
        assert_eq!(above.draw_limit().0, ml("50 mL"));
        let additive =
            BagVolume::new(ml("50 mL"), FinalVolumeMode::Additive, Some(ml("20 mL"))).unwrap();
        assert_eq!(additive.final_volume(ml("5.8 mL")).unwrap(), ml("55.8 mL"));
        assert_eq!(additive.active_diluent(ml("5.8 mL")), ml("50 mL"));
        let missing = BagVolume::new(ml("50 mL"), FinalVolumeMode::Additive, None).unwrap_err();
        assert!(
            missing.to_string().contains("site.max_draw_volume"),
            "{missing}"
        );
        let zero =
            BagVolume::new(ml("50 mL"), FinalVolumeMode::Qs, Some(ExactVolume::ZERO)).unwrap_err();
        assert!(zero.to_string().contains("above 0 mL"), "{zero}");
    }
}
