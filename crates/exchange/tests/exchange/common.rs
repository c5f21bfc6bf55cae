use sinergi_exchange::{ClientId, ServiceId, Timestamp, WIB_OFFSET_MINUTES};

pub fn client(code: &str, sub: &str) -> ClientId {
    ClientId::new("ID", "GOV", code, sub).expect("valid test client")
}

pub fn service(provider: &ClientId, code: &str) -> ServiceId {
    ServiceId::new(provider.clone(), code).expect("valid test service")
}

/// Midnight WIB of a date, plus seconds.
pub fn wib(date: &str, plus_secs: i64) -> Timestamp {
    let t = Timestamp::parse_date(date, WIB_OFFSET_MINUTES).expect("valid test date");
    Timestamp(t.0 + plus_secs * 1_000_000)
}
