//! Closes the cash register's shift with a Z-report each day at `FISCAL_ZREPORT_AT` (local
//! time), and in any case before it is 23 hours old: Webkassa refuses receipts in a shift over
//! 24 hours (error 11, which the client also answers by closing it). One instance closes it
//! (a lease); the decision is a pure function of the clock and the register's record.

use std::sync::Arc;
use std::time::Duration;

use super::registrar::{Answer, Registrar};
use crate::config::fiscal::{FiscalSettings, KAZAKHSTAN_UTC_OFFSET_MINUTES};
use crate::state::AppState;
use crate::store::receipts::{self, RegisterRow};
use crate::store::{leases, now_ms};

/// A shift is closed once it is this old, whatever the schedule says.
pub const LONGEST_SHIFT_MS: i64 = 23 * 3_600_000;
const DAY_MS: i64 = 86_400_000;
const EVERY: Duration = Duration::from_secs(30);

/// When the scheduled close at or before `now_ms` was (unix ms), for a close at
/// `at_minute` minutes after local midnight. Pure.
pub fn last_scheduled_close_ms(now_ms: i64, at_minute: u32) -> i64 {
    let offset_ms = i64::from(KAZAKHSTAN_UTC_OFFSET_MINUTES) * 60_000;
    let local = now_ms + offset_ms;
    let today = local - local.rem_euclid(DAY_MS) + i64::from(at_minute) * 60_000;
    let scheduled = if today <= local { today } else { today - DAY_MS };
    scheduled - offset_ms
}

/// Whether the open shift of `register` is to be closed at `now_ms`: it opened before the last
/// scheduled close, or it is `LONGEST_SHIFT_MS` old. No shift open: nothing to close. Pure.
pub fn close_due(register: &RegisterRow, now_ms: i64, at_minute: u32) -> bool {
    match register.shift_opened_ms {
        None => false,
        Some(opened) => opened < last_scheduled_close_ms(now_ms, at_minute) || now_ms - opened >= LONGEST_SHIFT_MS,
    }
}

pub async fn run(app: Arc<AppState>, registrar: Arc<dyn Registrar>, settings: FiscalSettings) {
    let holder = format!("shift-{}", crate::secrets::random_hex(8));
    loop {
        tokio::time::sleep(EVERY).await;
        if let Err(err) = round(&app, registrar.as_ref(), &settings, &holder).await {
            tracing::error!(error = %err, "cannot check the cash register's shift");
        }
    }
}

/// One look at the shift: closed if due, on the instance that holds the lease (taken only then:
/// an instance with nothing to close reads, it does not write).
pub async fn round(
    app: &AppState,
    registrar: &dyn Registrar,
    settings: &FiscalSettings,
    holder: &str,
) -> Result<bool, crate::store::StoreError> {
    let (now, holder_name) = (now_ms(), holder.to_owned());
    let cashbox = registrar.cashbox().to_owned();
    let register = app.store.read(move |db| receipts::register(db, &cashbox)).await?;
    if !close_due(&register, now, settings.zreport_at_minute) {
        return Ok(false);
    }
    let taken = app.store.write(move |tx| leases::take(tx, "fiscal-shift", &holder_name, now, now + 5 * 60_000)).await?;
    if !taken {
        return Ok(false);
    }
    close(app, registrar).await
}

/// Closes the shift now and records it; an alert or an error is kept for the console.
pub async fn close(app: &AppState, registrar: &dyn Registrar) -> Result<bool, crate::store::StoreError> {
    let cashbox = registrar.cashbox().to_owned();
    let answer = registrar.close_shift().await;
    let closed = matches!(answer, Answer::Done(()));
    match &answer {
        Answer::Done(()) => tracing::info!(cashbox = %cashbox, "shift closed (Z-report)"),
        other => tracing::error!(cashbox = %cashbox, answer = ?other, "the shift could not be closed; tried again in 30 s"),
    }
    app.store
        .write(move |tx| match &answer {
            Answer::Done(()) => receipts::shift_closed(tx, &cashbox, now_ms()),
            Answer::Alert { code, text } => receipts::raise_alert(tx, &cashbox, code, text),
            Answer::NotSent(why) | Answer::Unknown(why) | Answer::Refused(why) => receipts::shift_close_failed(tx, &cashbox, why),
        })
        .await?;
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 00:00 in Almaty (UTC+5), unix ms.
    const MIDNIGHT: i64 = 1_796_583_600_000;
    const MINUTE: i64 = 60_000;

    #[test]
    fn the_scheduled_close_is_the_last_one_at_the_local_time_asked() {
        let at = 23 * 60 + 50;
        assert_eq!(last_scheduled_close_ms(MIDNIGHT + 23 * 60 * MINUTE + 55 * MINUTE, at), MIDNIGHT + i64::from(at) * MINUTE);
        assert_eq!(last_scheduled_close_ms(MIDNIGHT + 12 * 60 * MINUTE, at), MIDNIGHT - DAY_MS + i64::from(at) * MINUTE, "yesterday's");
        assert_eq!(last_scheduled_close_ms(MIDNIGHT + 5 * MINUTE, 5), MIDNIGHT + 5 * MINUTE, "at the minute itself");
    }

    #[test]
    fn an_open_shift_closes_after_the_scheduled_time_or_at_23_hours() {
        let at = 23 * 60 + 50;
        let opened = |ms| RegisterRow { shift_opened_ms: Some(ms), ..RegisterRow::default() };
        let morning = MIDNIGHT + 9 * 60 * MINUTE;
        assert!(!close_due(&opened(morning), MIDNIGHT + 23 * 60 * MINUTE, at), "before the scheduled time");
        assert!(close_due(&opened(morning), MIDNIGHT + 23 * 60 * MINUTE + 51 * MINUTE, at), "after it");
        assert!(!close_due(&opened(MIDNIGHT + 23 * 60 * MINUTE + 52 * MINUTE), MIDNIGHT + DAY_MS + 60 * MINUTE, at), "opened after it");
        assert!(close_due(&opened(morning), morning + LONGEST_SHIFT_MS, 9 * 60 - 1), "23 hours old, whatever the schedule");
        assert!(!close_due(&RegisterRow::default(), MIDNIGHT + DAY_MS, at), "no shift open");
    }
}
