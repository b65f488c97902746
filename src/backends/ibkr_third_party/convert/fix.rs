//! The one table of the API's FIX codes (order type, side, time in force, order status, execution type,
//! temporality) and their TradingView counterparts, both ways. A code not in the table is never guessed:
//! the callers show it as unknown, with its code, and log it.

use crate::tv;

/// Order types: FIX `OrdType` (40).
pub const ORDER_TYPES: [(&str, tv::OrderType); 4] = [
    ("1", tv::OrderType::Market),
    ("2", tv::OrderType::Limit),
    ("3", tv::OrderType::Stop),
    ("4", tv::OrderType::StopLimit),
];

/// Sides: FIX `Side` (54).
pub const SIDES: [(&str, tv::Side); 2] = [("1", tv::Side::Buy), ("2", tv::Side::Sell)];

/// TradingView's duration ids this backend offers (`/config`).
pub const DAY: &str = "DAY";
pub const GTC: &str = "GTC";
pub const OPG: &str = "OPG";
pub const IOC: &str = "IOC";
pub const CLS: &str = "CLS";

/// Times in force: FIX `TimeInForce` (59) and the duration id TradingView's ticket shows.
pub const TIFS: [(&str, &str, &str); 5] = [
    ("0", DAY, "Day"),
    ("1", GTC, "Good till cancelled"),
    ("2", OPG, "At the opening"),
    ("3", IOC, "Immediate or cancel"),
    ("7", CLS, "At the close"),
];

/// An order status (FIX `OrdStatus`, 39) as TradingView shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Shown with this status, and a note for the user when the TradingView status alone loses what
    /// IBKR said (`Some("done for the day")`).
    As(tv::OrderStatus, Option<&'static str>),
    /// The order was replaced by a modification: its replacement (listed under the new id, shown under
    /// the TradingView id) stands for it, so it is not shown itself.
    Superseded,
}

/// Order statuses: FIX code, FIX name, and how TradingView shows it.
pub const ORDER_STATUSES: [(&str, &str, Shown); 16] = {
    use tv::OrderStatus::*;
    use Shown::*;
    [
        (
            "-1",
            "Invalid",
            As(Rejected, Some("IBKR marked the order invalid")),
        ),
        ("0", "New", As(Working, None)),
        ("1", "PartiallyFilled", As(Working, None)),
        ("2", "Filled", As(Filled, None)),
        // Not cancelled: a GTC order done for the day works again on the next session.
        ("3", "DoneForTheDay", As(Inactive, Some("done for the day"))),
        ("4", "Canceled", As(Cancelled, None)),
        ("5", "Replaced", Superseded),
        ("6", "PendingCancelReplace", As(Working, Some("cancel pending"))),
        (
            "7",
            "Stopped",
            As(Working, Some("stopped (price guaranteed, not yet filled)")),
        ),
        ("8", "Rejected", As(Rejected, None)),
        ("9", "Suspended", As(Inactive, Some("suspended"))),
        ("A", "PendingNew", As(Placing, None)),
        ("B", "Calculated", As(Working, None)),
        ("C", "Expired", As(Cancelled, Some("expired"))),
        ("D", "AcceptedForBidding", As(Working, None)),
        ("E", "PendingReplace", As(Working, Some("modification pending"))),
    ]
};

/// What a status code TradingView cannot be told the meaning of is shown as: not final (it claims
/// neither a fill nor a cancellation, and the user may still cancel), with the code in the message.
pub const UNKNOWN_STATUS: tv::OrderStatus = tv::OrderStatus::Working;

/// Execution types: FIX `ExecType` (150), its name, and the order status TradingView shows after such
/// an execution report (`None`: the report says nothing about the order's state).
pub const EXEC_TYPES: [(&str, &str, Option<tv::OrderStatus>); 20] = {
    use tv::OrderStatus::*;
    [
        ("-1", "Invalid", Some(Rejected)),
        ("0", "New", Some(Working)),
        ("1", "PartialFill", Some(Working)),
        ("2", "Fill", Some(Filled)),
        ("3", "DoneForDay", Some(Inactive)),
        ("4", "Canceled", Some(Cancelled)),
        ("5", "Replace", Some(Working)),
        ("6", "PendingCancel", Some(Working)),
        ("7", "Stopped", Some(Working)),
        ("8", "Rejected", Some(Rejected)),
        ("9", "Suspended", Some(Inactive)),
        ("A", "PendingNew", Some(Placing)),
        ("B", "Calculated", Some(Working)),
        ("C", "Expired", Some(Cancelled)),
        ("D", "Restated", None),
        ("E", "PendingReplace", Some(Working)),
        ("F", "Trade", None),
        ("G", "TradeCorrect", None),
        ("H", "TradeCancel", None),
        ("I", "OrderStatus", None),
    ]
};

/// Market data temporality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    RealTime,
    Delayed,
}

pub const TEMPORALITIES: [(i64, Temporality, &str); 2] = [
    (0, Temporality::RealTime, "real time"),
    (1, Temporality::Delayed, "delayed"),
];

pub fn order_type(code: &str) -> Option<tv::OrderType> {
    ORDER_TYPES
        .iter()
        .find(|(c, _)| *c == code.trim())
        .map(|(_, t)| *t)
}

pub fn order_type_code(kind: tv::OrderType) -> &'static str {
    ORDER_TYPES
        .iter()
        .find(|(_, t)| *t == kind)
        .map_or("2", |(c, _)| *c)
}

pub fn side(code: &str) -> Option<tv::Side> {
    SIDES.iter().find(|(c, _)| *c == code.trim()).map(|(_, s)| *s)
}

pub fn side_code(side: tv::Side) -> &'static str {
    match side {
        tv::Side::Buy => "1",
        tv::Side::Sell => "2",
    }
}

/// TradingView's duration id of a TIF code.
pub fn duration(code: &str) -> Option<&'static str> {
    TIFS.iter()
        .find(|(c, _, _)| *c == code.trim())
        .map(|(_, d, _)| *d)
}

/// The TIF code of one of TradingView's duration ids.
pub fn tif_code(duration: &str) -> Option<&'static str> {
    TIFS.iter().find(|(_, d, _)| *d == duration).map(|(c, _, _)| *c)
}

/// The row of an order status code, `None` when the code is not in IBKR's table.
pub fn order_status(code: &str) -> Option<(&'static str, Shown)> {
    ORDER_STATUSES
        .iter()
        .find(|(c, _, _)| *c == code.trim())
        .map(|(_, name, shown)| (*name, *shown))
}

/// Every order status code TradingView's `status` stands for (the other way of [`order_status`]).
pub fn order_status_codes(status: tv::OrderStatus) -> Vec<&'static str> {
    ORDER_STATUSES
        .iter()
        .filter(|(_, _, s)| matches!(s, Shown::As(t, _) if *t == status))
        .map(|(c, _, _)| *c)
        .collect()
}

/// The row of an execution type code.
pub fn exec_type(code: &str) -> Option<(&'static str, Option<tv::OrderStatus>)> {
    EXEC_TYPES
        .iter()
        .find(|(c, _, _)| *c == code.trim())
        .map(|(_, name, s)| (*name, *s))
}

/// The execution type code of a FIX name (the other way of [`exec_type`]).
pub fn exec_type_code(name: &str) -> Option<&'static str> {
    EXEC_TYPES.iter().find(|(_, n, _)| *n == name).map(|(c, _, _)| *c)
}

pub fn temporality(code: i64) -> Option<Temporality> {
    TEMPORALITIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, t, _)| *t)
}

pub fn temporality_code(t: Temporality) -> i64 {
    TEMPORALITIES
        .iter()
        .find(|(_, x, _)| *x == t)
        .map_or(0, |(c, _, _)| *c)
}

/// How a temporality is worded for the user.
pub fn temporality_label(t: Temporality) -> &'static str {
    TEMPORALITIES
        .iter()
        .find(|(_, x, _)| *x == t)
        .map_or("", |(_, _, l)| *l)
}

/// A code as it may be quoted in a message: printable, at most 8 characters.
pub fn quoted(code: &str) -> String {
    code.chars().filter(|c| !c.is_control()).take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_types_and_sides_map_both_ways() {
        for (code, kind) in ORDER_TYPES {
            assert_eq!(order_type(code), Some(kind));
            assert_eq!(order_type_code(kind), code);
        }
        for kind in [
            tv::OrderType::Market,
            tv::OrderType::Limit,
            tv::OrderType::Stop,
            tv::OrderType::StopLimit,
        ] {
            assert_eq!(order_type(order_type_code(kind)), Some(kind));
        }
        for (code, s) in SIDES {
            assert_eq!((side(code), side_code(s)), (Some(s), code));
        }
        assert_eq!(
            (order_type("5"), order_type("P"), side("3"), side("")),
            (None, None, None, None)
        );
    }

    #[test]
    fn times_in_force_map_both_ways() {
        for (code, id, _) in TIFS {
            assert_eq!((duration(code), tif_code(id)), (Some(id), Some(code)));
        }
        assert_eq!(
            (duration("4"), duration("6"), tif_code("GTD")),
            (None, None, None)
        );
    }

    #[test]
    fn every_order_status_maps_and_none_is_guessed() {
        use tv::OrderStatus::*;
        let expect = [
            ("-1", Some(Rejected)),
            ("0", Some(Working)),
            ("1", Some(Working)),
            ("2", Some(Filled)),
            ("3", Some(Inactive)),
            ("4", Some(Cancelled)),
            ("5", None),
            ("6", Some(Working)),
            ("7", Some(Working)),
            ("8", Some(Rejected)),
            ("9", Some(Inactive)),
            ("A", Some(Placing)),
            ("B", Some(Working)),
            ("C", Some(Cancelled)),
            ("D", Some(Working)),
            ("E", Some(Working)),
        ];
        assert_eq!(expect.len(), ORDER_STATUSES.len());
        for (code, status) in expect {
            let (_, shown) = order_status(code).unwrap_or_else(|| panic!("{code}"));
            match (shown, status) {
                (Shown::As(s, _), Some(want)) => {
                    assert_eq!(s, want, "{code}");
                    assert!(
                        order_status_codes(want).contains(&code),
                        "{code} back from {want}"
                    );
                }
                (Shown::Superseded, None) => {}
                other => panic!("{code}: {other:?}"),
            }
        }
        // TradingView -> FIX: every TradingView status but the replaced has its codes.
        assert_eq!(order_status_codes(Filled), ["2"]);
        assert_eq!(order_status_codes(Cancelled), ["4", "C"]);
        assert_eq!(order_status_codes(Rejected), ["-1", "8"]);
        assert_eq!(order_status_codes(Placing), ["A"]);
        assert_eq!(order_status_codes(Inactive), ["3", "9"]);
        for unknown in ["F", "Z", "10", ""] {
            assert!(order_status(unknown).is_none(), "{unknown}");
        }
        assert!(
            !UNKNOWN_STATUS.is_final(),
            "an unknown status claims no fill or cancellation"
        );
    }

    #[test]
    fn every_execution_type_maps_both_ways() {
        assert_eq!(EXEC_TYPES.len(), 20);
        for (code, name, status) in EXEC_TYPES {
            assert_eq!(exec_type(code), Some((name, status)));
            assert_eq!(exec_type_code(name), Some(code));
        }
        assert_eq!(exec_type("2").unwrap().1, Some(tv::OrderStatus::Filled));
        assert_eq!(exec_type("F").unwrap().1, None);
        assert!(exec_type("J").is_none() && exec_type_code("Nope").is_none());
    }

    #[test]
    fn temporality_maps_both_ways() {
        for (code, t, label) in TEMPORALITIES {
            assert_eq!(
                (temporality(code), temporality_code(t), temporality_label(t)),
                (Some(t), code, label)
            );
        }
        assert_eq!(temporality(2), None);
        assert_eq!(quoted("Z\n1234567890"), "Z1234567");
    }
}
