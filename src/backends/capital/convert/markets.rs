//! Capital.com markets as TradingView sees them: symbol types, tick/pip/quantity grids, `/instruments`
//! rows and data-feed (`/symbol_info`) rows.

use super::model::{self, InstrumentType, MarketDetails, RuleUnit};
use super::session;
use super::tenth_power;
use crate::tv::{self, SymbolInfo, SymbolType};
use rust_decimal::Decimal;

/// Exchange name of every Capital.com symbol in the data feed.
pub const EXCHANGE: &str = "CAPITALCOM";

/// TradingView `typespecs` of every Capital.com instrument: all of them are traded as CFDs.
pub const TYPESPECS: &str = "cfd";

/// Largest quantity offered when the dealing rules carry no `maxDealSize` (the official example has none);
/// the upstream still refuses what it cannot take, with its own message.
pub const FALLBACK_MAX_QTY: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Tick used when the market details carry neither `decimalPlacesFactor` nor a price to read a scale from.
const FALLBACK_TICK_PLACES: u32 = 2;

/// TradingView symbol type of a Capital.com instrument type. `Unknown` becomes `cfd`, which is true of
/// everything Capital.com sells.
pub fn symbol_type(t: InstrumentType) -> SymbolType {
    match t {
        InstrumentType::Shares => SymbolType::Stock,
        InstrumentType::Currencies => SymbolType::Forex,
        InstrumentType::Indices => SymbolType::Index,
        InstrumentType::Cryptocurrencies => SymbolType::Crypto,
        InstrumentType::Commodities => SymbolType::Commodity,
        InstrumentType::Unknown => SymbolType::Cfd,
    }
}

/// Data-feed group (without the configured prefix) of an instrument type: one group per asset class, with
/// the paper backend's names where they overlap (`forex`, `crypto`, `stocks`, `cfd` for the rest).
pub fn group(t: InstrumentType) -> &'static str {
    match t {
        InstrumentType::Shares => "stocks",
        InstrumentType::Currencies => "forex",
        InstrumentType::Indices => "indices",
        InstrumentType::Cryptocurrencies => "crypto",
        InstrumentType::Commodities => "commodities",
        InstrumentType::Unknown => "cfd",
    }
}

/// Smallest price increment: `10^-decimalPlacesFactor`. Without that field, the finest scale of the
/// snapshot's prices as sent (a price that happens to end in zeros gives a coarser tick, hence the max over
/// all of them); without prices either, 0.01.
pub fn min_tick(details: &MarketDetails) -> Decimal {
    if let Some(dp) = details.snapshot.decimal_places_factor {
        return tenth_power(dp);
    }
    let s = &details.snapshot;
    let places = [s.bid, s.offer, s.high, s.low]
        .into_iter()
        .flatten()
        .map(|p| p.scale())
        .max()
        .unwrap_or(FALLBACK_TICK_PLACES);
    tenth_power(places)
}

/// Pip size: for currencies quoted with a fractional pip (3 or 5 decimals, e.g. USDJPY 0.001, EURUSD
/// 0.00001) the pip is ten ticks (0.01, 0.0001); for everything else the pip is the tick.
pub fn pip_size(details: &MarketDetails) -> Decimal {
    match (
        details.instrument.instrument_type,
        details.snapshot.decimal_places_factor,
    ) {
        (InstrumentType::Currencies, Some(dp @ (3 | 5))) => tenth_power(dp - 1),
        _ => min_tick(details),
    }
}

/// Quantity increment. Capital.com documents no size increment, so the step is the finest decimal place of
/// `minDealSize`: 0.1 -> 0.1, 0.01 -> 0.01, 100 -> 1, 0.5 -> 0.1. Without a minimum deal size, 1.
pub fn qty_step(details: &MarketDetails) -> Decimal {
    match details.dealing_rules.min_deal_size {
        Some(rule) => tenth_power(rule.value.normalize().scale()),
        None => Decimal::ONE,
    }
}

/// An `/instruments` row. `to_account` is the price of one unit of the instrument's currency in the account
/// currency (1 when they are the same).
pub fn instrument(symbol: &str, details: &MarketDetails, to_account: Decimal) -> tv::Instrument {
    let ins = &details.instrument;
    let rules = &details.dealing_rules;
    let step = qty_step(details);
    let pip = pip_size(details);
    let lot = ins
        .lot_size
        .filter(|l| *l > Decimal::ZERO)
        .unwrap_or(Decimal::ONE);
    let min_qty = rules
        .min_deal_size
        .map(|r| r.value)
        .filter(|v| *v > Decimal::ZERO)
        .unwrap_or(step);
    let max_qty = rules
        .max_deal_size
        .map(|r| r.value)
        .filter(|v| *v >= min_qty)
        .unwrap_or(FALLBACK_MAX_QTY.max(min_qty));
    tv::Instrument {
        name: symbol.to_owned(),
        description: ins.name.clone(),
        min_qty,
        max_qty,
        qty_step: step,
        pip_size: pip,
        pip_value: (pip * lot * to_account).round_dp(10).normalize(),
        min_tick: min_tick(details),
        lot_size: Some(lot),
        base_currency: base_currency(details),
        quote_currency: Some(ins.currency.clone()),
        margin_rate: margin_rate(ins),
        units: None,
        kind: symbol_type(ins.instrument_type),
        typespecs: Some(TYPESPECS.to_owned()),
    }
}

/// Margin rate (fraction of the notional) from `marginFactor`: a PERCENTAGE is divided by 100. A factor in
/// POINTS or in an unknown unit is no rate, so none is reported.
fn margin_rate(ins: &model::Instrument) -> Option<Decimal> {
    let factor = ins.margin_factor?;
    match ins.margin_factor_unit? {
        RuleUnit::Percentage => Some((factor / Decimal::ONE_HUNDRED).normalize()),
        RuleUnit::Points | RuleUnit::Unknown => None,
    }
}

/// Base currency of a currency or crypto pair, read from its epic (`EURUSD` quoted in `USD` -> `EUR`).
/// Capital.com sends no base currency, so an epic that does not look like `<letters><quote currency>` has
/// none.
fn base_currency(details: &MarketDetails) -> Option<String> {
    let ins = &details.instrument;
    match ins.instrument_type {
        InstrumentType::Currencies | InstrumentType::Cryptocurrencies => {}
        InstrumentType::Shares
        | InstrumentType::Indices
        | InstrumentType::Commodities
        | InstrumentType::Unknown => return None,
    }
    let base = ins.epic.strip_suffix(ins.currency.as_str())?;
    ((2..=6).contains(&base.len()) && base.chars().all(|c| c.is_ascii_uppercase())).then(|| base.to_owned())
}

/// A data-feed (`/symbol_info`) row: price format from the tick, the weekly session from `openingHours`.
pub fn symbol_info(symbol: &str, details: &MarketDetails) -> SymbolInfo {
    let ins = &details.instrument;
    let (minmovement, pricescale) = SymbolInfo::price_format(min_tick(details));
    // Capital.com epics may hold `-` (TradingView accepts it), so it is kept.
    let (name, ticker) = SymbolInfo::name_and_ticker(symbol, &['.', '_', '-']);
    let hours = ins.opening_hours.as_ref();
    SymbolInfo {
        symbol: name,
        ticker,
        description: ins.name.clone(),
        currency: ins.currency.clone(),
        base_currency: base_currency(details),
        exchange: EXCHANGE.to_owned(),
        minmovement,
        minmovement2: match ins.instrument_type {
            InstrumentType::Currencies => SymbolInfo::pip_fraction(min_tick(details), pip_size(details)),
            _ => 0,
        },
        pricescale,
        timezone: timezone(hours.and_then(|h| h.zone.as_deref())),
        session: hours.map_or_else(|| session::ALWAYS_OPEN.to_owned(), session::tradingview_session),
        kind: symbol_type(ins.instrument_type),
        typespecs: Some(TYPESPECS.to_owned()),
        group: group(ins.instrument_type).to_owned(),
        // `/prices` carries `lastTradedVolume`, so bars have a volume.
        has_no_volume: false,
    }
}

/// TradingView timezone of an `openingHours.zone`: UTC (and a missing zone) is `Etc/UTC`; an IANA name
/// (`Area/City`) is passed on; anything else is read as UTC, the only zone the official examples show.
fn timezone(zone: Option<&str>) -> String {
    match zone.map(str::trim) {
        Some(z)
            if z.contains('/')
                && z.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+')) =>
        {
            z.to_owned()
        }
        _ => "Etc/UTC".to_owned(),
    }
}
