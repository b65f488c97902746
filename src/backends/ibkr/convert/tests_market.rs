//! Account, position and market conversions on the payloads of `testdata/ibkr/`.

use super::account::{position, state};
use super::market::*;
use crate::backends::ibkr::model::market::{ContractInfo, History, SnapshotRow};
use crate::backends::ibkr::model::portfolio::{Ledger, Position, Summary};
use crate::backends::ibkr::model::tests::fixture;
use crate::tv;
use rust_decimal_macros::dec;

fn read<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&fixture(name)).unwrap()
}

#[test]
fn state_comes_from_the_summary_and_the_ledger() {
    let s = state(&read::<Summary>("summary.json"), &read::<Ledger>("ledger.json")).unwrap();
    assert_eq!(
        (s.balance, s.equity, s.unrealized_pl, s.margin_available),
        (dec!(1000000), dec!(1015035), dec!(126.6), Some(dec!(990000.5)))
    );
    // Without the ledger's P/L the state is not made up.
    assert!(state(&read::<Summary>("summary.json"), &Ledger::new()).is_err());
    assert!(state(&Summary::default(), &Ledger::new()).is_err());
}

#[test]
fn positions_are_net_with_their_side() {
    let p: Vec<Position> = read("positions_page0.json");
    let long = position(&p[0], "AAPL").unwrap().unwrap();
    assert_eq!(
        (long.qty, long.side, long.avg_price, long.unrealized_pl),
        (dec!(12), tv::Side::Buy, dec!(190.13), dec!(36.6))
    );
    let short = position(&p[1], "EURUSD").unwrap().unwrap();
    assert_eq!(
        (short.id.as_str(), short.qty, short.side),
        ("EURUSD", dec!(20000), tv::Side::Sell)
    );
    let mut flat = p[0].clone();
    flat.position.0 = dec!(0);
    assert_eq!(position(&flat, "AAPL").unwrap(), None);
}

#[test]
fn the_book_is_the_top_level_of_each_side_with_us_stock_sizes_in_units() {
    let rows: Vec<SnapshotRow> = read("snapshot.json");
    let aapl: ContractInfo = read("contract_info_rules.json");
    assert_eq!(
        size_scale(&aapl),
        dec!(100),
        "a US stock's sizes are shown in hundreds"
    );
    let aapl_book = book(&rows[0], size_scale(&aapl)).unwrap().unwrap();
    assert_eq!(aapl_book.asks, vec![[dec!(193.20), dec!(120000)]]);
    assert_eq!(aapl_book.bids, vec![[dec!(193.06), dec!(340000)]]);

    let mut eur = aapl.clone();
    eur.instrument_type = Some("CASH".into());
    assert_eq!(size_scale(&eur), dec!(1));
    let mut london = aapl;
    london.currency = Some("GBP".into());
    assert_eq!(size_scale(&london), dec!(1), "only US stocks");
    let fx = book(&rows[1], dec!(1)).unwrap().unwrap();
    assert_eq!(
        (fx.asks, fx.bids),
        (
            vec![[dec!(1.07655), dec!(2000000)]],
            vec![[dec!(1.07645), dec!(1000000)]]
        )
    );

    // No bid and ask yet: no book; sizes missing or abbreviated: zero; a price that is garbage: refused.
    assert_eq!(book(&rows[2], dec!(1)).unwrap(), None);
    let mut odd = rows[0].clone();
    odd.fields.remove("85");
    odd.fields.insert("88".into(), "1.2K".into());
    let b = book(&odd, dec!(100)).unwrap().unwrap();
    assert_eq!((b.asks[0][1], b.bids[0][1]), (dec!(0), dec!(0)));
    odd.fields.insert("86".into(), "n/a".into());
    assert!(book(&odd, dec!(1)).is_err());
}

#[test]
fn quotes_need_both_sides_and_refuse_garbage() {
    let rows: Vec<SnapshotRow> = read("snapshot.json");
    let q = quote(&rows[0]).unwrap().unwrap();
    assert_eq!((q.bid, q.ask), (dec!(193.06), dec!(193.20)));
    assert_eq!(quote(&rows[2]).unwrap(), None, "empty values: not yet");
    let first: Vec<SnapshotRow> = read("snapshot_first.json");
    assert_eq!(
        quote(&first[0]).unwrap(),
        None,
        "the first snapshot only subscribes"
    );
    let mut bad = rows[0].clone();
    bad.fields.insert("84".into(), "n/a".into());
    assert!(quote(&bad).is_err());
}

#[test]
fn resolutions_map_to_ibkr_bars_and_periods() {
    use tv::Resolution::*;
    assert_eq!(base_bar(Minutes(1)), ("1min", 60, true));
    assert_eq!(base_bar(Minutes(7)), ("1min", 60, false));
    assert_eq!(base_bar(Minutes(45)), ("15min", 900, false));
    assert_eq!(base_bar(Minutes(240)), ("4h", 14_400, true));
    assert_eq!(base_bar(Minutes(1440)), ("1d", 86_400, true));
    assert_eq!(base_bar(Days(1)), ("1d", 86_400, true));
    assert_eq!(base_bar(Weeks(1)), ("1d", 86_400, false));
    let p = period;
    // IBKR refuses more than 30 min, 8 h or 1000 d: 1000 one-minute bars are asked as 8 h of them.
    assert_eq!(p(1000, 60), ("8h".to_string(), 480));
    assert_eq!(p(24, 3600), ("1d".to_string(), 24));
    assert_eq!(p(5, 3600), ("5h".to_string(), 5));
    assert_eq!(p(20, 60), ("20min".to_string(), 20));
    assert_eq!(p(1000, 86_400), ("1000d".to_string(), 1000));
    assert_eq!(p(3, 14_400), ("8h".to_string(), 2));
    assert_eq!(p(1, 86_400), ("1d".to_string(), 1));
    assert_eq!(start_time(1_702_305_000).as_deref(), Some("20231211-14:30:00"));
    let h: History = read("history.json");
    let b = bar(&h.data[0], false);
    assert_eq!(
        (b.t, b.open, b.close, b.volume),
        (1_702_305_000, dec!(193.11), dec!(193.27), dec!(1735))
    );
    assert_eq!(
        bar(&h.data[0], true).t,
        1_702_252_800,
        "daily bars at 00:00 UTC of their date"
    );
}

#[test]
fn instruments_come_from_contract_rules() {
    let info: ContractInfo = read("contract_info_rules.json");
    let i = instrument("AAPL", &info).unwrap();
    assert_eq!(
        (i.min_tick, i.qty_step, i.min_qty, i.kind),
        (dec!(0.01), dec!(1), dec!(1), tv::SymbolType::Stock)
    );
    assert_eq!(
        (i.description.as_str(), i.quote_currency.as_deref()),
        ("APPLE INC", Some("USD"))
    );
    let mut fx = info.clone();
    fx.instrument_type = Some("CASH".into());
    fx.symbol = Some("EUR".into());
    assert_eq!(
        instrument("EURUSD", &fx).unwrap().base_currency.as_deref(),
        Some("EUR")
    );
    let mut odd = info.clone();
    odd.instrument_type = Some("WAR".into());
    assert!(instrument("X", &odd).is_err());
    let mut no_rules = info;
    no_rules.rules = None;
    assert!(instrument("AAPL", &no_rules).is_err());
}

#[test]
fn symbol_info_takes_the_schedules_hours_or_keeps_the_guess() {
    let info: ContractInfo = read("contract_info_rules.json");
    let stock = instrument("AAPL", &info).unwrap();
    let hours = super::schedule::TradingHours {
        exchange: Some("NASDAQ".into()),
        timezone: "America/New_York".into(),
        session: "0930-1600:23456".into(),
        holidays: Vec::new(),
    };
    let row = symbol_info("AAPL", &stock, Some(&hours));
    assert_eq!(
        (row.timezone.as_str(), row.session.as_str(), row.minmovement2),
        ("America/New_York", "0930-1600:23456", 0)
    );
    let row = symbol_info("AAPL", &stock, None);
    assert_eq!((row.timezone.as_str(), row.session.as_str()), ("Etc/UTC", "24x7"));
    // A half-pip EUR.USD: 5 steps of 0.00001, 10 of them a pip; a yen pair's pip is 0.01.
    let mut fx = stock.clone();
    fx.kind = tv::SymbolType::Forex;
    fx.min_tick = dec!(0.00005);
    let row = symbol_info("EURUSD", &fx, None);
    assert_eq!(
        (row.pricescale, row.minmovement, row.minmovement2),
        (100_000, 5, 10)
    );
    assert_eq!(row.session, "1700-1700:23456");
    fx.min_tick = dec!(0.005);
    fx.quote_currency = Some("JPY".into());
    let row = symbol_info("USDJPY", &fx, None);
    assert_eq!((row.pricescale, row.minmovement2), (1_000, 10));
}
