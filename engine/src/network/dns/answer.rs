//! Turning one query into a reply from a container's view, or deciding to forward it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::seq::SliceRandom;
use simple_dns::rdata::{RData, A, AAAA, PTR};
use simple_dns::{
    Name, Packet, PacketFlag, Question, ResourceRecord, CLASS, OPCODE, QTYPE, RCODE, TYPE,
};

use super::{ContainerDnsView, LOCAL_TTL};

/// Classic DNS over UDP without EDNS: answers longer than this are truncated (the client retries
/// over TCP).
pub const UDP_PLAIN_LIMIT: usize = 512;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send these bytes back.
    Reply(Vec<u8>),
    /// Not ours: relay the query unchanged to the upstream servers.
    Forward,
    /// Not even a header: say nothing (as any resolver would).
    Drop,
}

/// Answer `query` for a container whose view is `view` (None: the container left its networks).
/// `max_len` is the most the transport carries: 512 on UDP (raised by the query's EDNS size), 65535
/// on TCP.
pub fn answer(query: &[u8], view: Option<&ContainerDnsView>, max_len: usize) -> Outcome {
    let packet = match Packet::parse(query) {
        Ok(p) => p,
        Err(_) => return header_only_reply(query, RCODE::FormatError),
    };
    if packet.has_flags(PacketFlag::RESPONSE) {
        return Outcome::Drop;
    }
    if packet.opcode() != OPCODE::StandardQuery {
        return header_only_reply(query, RCODE::NotImplemented);
    }
    let [question] = packet.questions.as_slice() else {
        return header_only_reply(query, RCODE::FormatError);
    };
    let Some(view) = view else {
        return header_only_reply(query, RCODE::ServerFailure);
    };
    let name = normalise(&question.qname.to_string());
    // Over UDP a client may announce a larger buffer with EDNS; TCP callers pass the 64 KiB frame.
    let limit = match packet.opt() {
        Some(opt) if max_len < usize::from(u16::MAX) => {
            max_len.max(usize::from(opt.udp_packet_size).min(4096))
        }
        _ => max_len,
    };

    if let Some(addr) = reverse(&name) {
        let owns = |r: &&super::HostRecord| match addr {
            IpAddr::V4(a) => r.addr == a,
            IpAddr::V6(a) => r.addr6 == Some(a),
        };
        return match view.records.iter().find(owns) {
            Some(record) => reply(&packet, question, |q| {
                let target = Name::new_unchecked(&record.ptr_name).into_owned();
                vec![ResourceRecord::new(
                    q.qname.clone(),
                    CLASS::IN,
                    LOCAL_TTL,
                    RData::PTR(PTR(target)),
                )]
            })
            .map(|bytes| fit(bytes, limit))
            .unwrap_or_else(|| header_only_reply(query, RCODE::ServerFailure)),
            None => forward_or_fail(query, view),
        };
    }

    let matching: Vec<&super::HostRecord> = view
        .records
        .iter()
        .filter(|r| r.names.contains(&name))
        .collect();
    if matching.is_empty() {
        return forward_or_fail(query, view);
    }
    let mut addrs: Vec<IpAddr> = Vec::new();
    if matches!(question.qtype, QTYPE::TYPE(TYPE::A) | QTYPE::ANY) {
        addrs.extend(matching.iter().map(|r| IpAddr::V4(r.addr)));
    }
    if matches!(question.qtype, QTYPE::TYPE(TYPE::AAAA) | QTYPE::ANY) {
        addrs.extend(matching.iter().filter_map(|r| r.addr6.map(IpAddr::V6)));
    }
    addrs.sort();
    addrs.dedup();
    // Several containers sharing an alias: rotate like docker so clients spread their load.
    addrs.shuffle(&mut rand::thread_rng());
    // The name is ours but may have no record of this type (AAAA of an IPv4-only container, MX,
    // ...): then an empty NOERROR answer, so the client does not ask the outside world about it.
    let built = reply(&packet, question, |q| {
        addrs
            .iter()
            .map(|a| {
                let rdata = match a {
                    IpAddr::V4(a) => RData::A(A::from(*a)),
                    IpAddr::V6(a) => RData::AAAA(AAAA::from(*a)),
                };
                ResourceRecord::new(q.qname.clone(), CLASS::IN, LOCAL_TTL, rdata)
            })
            .collect()
    });
    match built {
        Some(bytes) => fit(bytes, limit),
        None => header_only_reply(query, RCODE::ServerFailure),
    }
}

fn forward_or_fail(query: &[u8], view: &ContainerDnsView) -> Outcome {
    if view.upstream.is_empty() {
        header_only_reply(query, RCODE::ServerFailure)
    } else {
        Outcome::Forward
    }
}

/// Build a reply echoing the question; `answers` makes the answer records.
fn reply<'a>(
    query: &Packet<'a>,
    question: &Question<'a>,
    answers: impl FnOnce(&Question<'a>) -> Vec<ResourceRecord<'a>>,
) -> Option<Vec<u8>> {
    let mut out = Packet::new_reply(query.id());
    let mut flags = PacketFlag::AUTHORITATIVE_ANSWER | PacketFlag::RECURSION_AVAILABLE;
    if query.has_flags(PacketFlag::RECURSION_DESIRED) {
        flags |= PacketFlag::RECURSION_DESIRED;
    }
    out.set_flags(flags);
    out.questions.push(question.clone());
    out.answers = answers(question);
    out.build_bytes_vec_compressed().ok()
}

/// Replies that do not fit are sent as truncated (TC, no records) so the client retries over TCP.
fn fit(bytes: Vec<u8>, limit: usize) -> Outcome {
    if bytes.len() <= limit {
        return Outcome::Reply(bytes);
    }
    let Ok(packet) = Packet::parse(&bytes) else {
        return Outcome::Drop;
    };
    let mut cut = Packet::new_reply(packet.id());
    cut.set_flags(
        PacketFlag::AUTHORITATIVE_ANSWER | PacketFlag::RECURSION_AVAILABLE | PacketFlag::TRUNCATION,
    );
    cut.questions = packet.questions.clone();
    match cut.build_bytes_vec() {
        Ok(b) => Outcome::Reply(b),
        Err(_) => Outcome::Drop,
    }
}

/// A reply made of the query's 12-byte header alone (question dropped): used for errors, including
/// queries too broken to parse.
fn header_only_reply(query: &[u8], rcode: RCODE) -> Outcome {
    if query.len() < 12 {
        return Outcome::Drop;
    }
    let mut out = vec![0u8; 12];
    out[0] = query[0];
    out[1] = query[1];
    // QR=1, same opcode, RD copied; RA=1, rcode.
    out[2] = 0x80 | (query[2] & 0x78) | (query[2] & 0x01);
    out[3] = 0x80 | (rcode as u8 & 0x0f);
    Outcome::Reply(out)
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A reverse lookup name, either family.
fn reverse(name: &str) -> Option<IpAddr> {
    reverse_v4(name)
        .map(IpAddr::V4)
        .or_else(|| reverse_v6(name).map(IpAddr::V6))
}

/// `b.a.9.8.….8.b.d.0.1.0.0.2.ip6.arpa` (32 nibbles, lowest first) → the address.
fn reverse_v6(name: &str) -> Option<Ipv6Addr> {
    let rest = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u32> = rest
        .split('.')
        .map(|p| {
            let mut chars = p.chars();
            let digit = chars.next()?.to_digit(16)?;
            chars.next().is_none().then_some(digit)
        })
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let value = nibbles
        .iter()
        .rev()
        .fold(0u128, |acc, n| (acc << 4) | u128::from(*n));
    Some(Ipv6Addr::from(value))
}

/// `4.3.2.1.in-addr.arpa` → 1.2.3.4.
fn reverse_v4(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let octets: Vec<u8> = rest
        .split('.')
        .map(|p| p.parse::<u8>().ok())
        .collect::<Option<_>>()?;
    let [d, c, b, a] = octets.as_slice() else {
        return None;
    };
    Some(Ipv4Addr::new(*a, *b, *c, *d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::dns::HostRecord;

    fn view(upstream: bool) -> ContainerDnsView {
        ContainerDnsView {
            records: vec![
                HostRecord {
                    names: vec!["web".into(), "web.appnet".into(), "frontend".into()],
                    addr: Ipv4Addr::new(10, 202, 0, 2),
                    addr6: Some("2001:db8:1::2".parse().unwrap()),
                    ptr_name: "web.appnet".into(),
                },
                HostRecord {
                    names: vec!["db".into(), "db.appnet".into()],
                    addr: Ipv4Addr::new(10, 202, 0, 3),
                    addr6: None,
                    ptr_name: "db.appnet".into(),
                },
            ],
            upstream: if upstream {
                vec!["127.0.0.1:53".parse().unwrap()]
            } else {
                vec![]
            },
        }
    }

    pub fn query(name: &str, qtype: TYPE) -> Vec<u8> {
        let mut p = Packet::new_query(0x4242);
        p.set_flags(PacketFlag::RECURSION_DESIRED);
        p.questions.push(Question::new(
            Name::new_unchecked(name),
            QTYPE::TYPE(qtype),
            simple_dns::QCLASS::CLASS(CLASS::IN),
            false,
        ));
        p.build_bytes_vec().unwrap()
    }

    fn reply_of(outcome: Outcome) -> Vec<u8> {
        match outcome {
            Outcome::Reply(b) => b,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    fn a_records(bytes: &[u8]) -> Vec<Ipv4Addr> {
        let p = Packet::parse(bytes).unwrap();
        p.answers
            .iter()
            .filter_map(|rr| match &rr.rdata {
                RData::A(a) => Some(Ipv4Addr::from(a.address)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_query_for_a_container_name_is_answered_case_insensitively() {
        let bytes = reply_of(answer(&query("WEB.", TYPE::A), Some(&view(true)), 512));
        let p = Packet::parse(&bytes).unwrap();
        assert_eq!(p.id(), 0x4242);
        assert_eq!(p.rcode(), RCODE::NoError);
        assert!(p.has_flags(PacketFlag::RESPONSE | PacketFlag::RECURSION_DESIRED));
        assert_eq!(a_records(&bytes), vec![Ipv4Addr::new(10, 202, 0, 2)]);
        let alias = reply_of(answer(&query("frontend", TYPE::A), Some(&view(true)), 512));
        assert_eq!(a_records(&alias), vec![Ipv4Addr::new(10, 202, 0, 2)]);
        let qualified = reply_of(answer(&query("db.appnet", TYPE::A), Some(&view(true)), 512));
        assert_eq!(a_records(&qualified), vec![Ipv4Addr::new(10, 202, 0, 3)]);
    }

    #[test]
    fn aaaa_and_ip6_reverse_for_a_container_with_ipv6() {
        let bytes = reply_of(answer(&query("web", TYPE::AAAA), Some(&view(true)), 512));
        let p = Packet::parse(&bytes).unwrap();
        let v6: Vec<Ipv6Addr> = p
            .answers
            .iter()
            .filter_map(|rr| match &rr.rdata {
                RData::AAAA(a) => Some(Ipv6Addr::from(a.address)),
                _ => None,
            })
            .collect();
        assert_eq!(v6, vec!["2001:db8:1::2".parse::<Ipv6Addr>().unwrap()]);
        assert!(
            a_records(&bytes).is_empty(),
            "an AAAA query gets no A records"
        );
        let name = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
        let bytes = reply_of(answer(&query(name, TYPE::PTR), Some(&view(false)), 512));
        let p = Packet::parse(&bytes).unwrap();
        match &p.answers[0].rdata {
            RData::PTR(ptr) => assert_eq!(ptr.0.to_string(), "web.appnet"),
            other => panic!("expected a PTR, got {other:?}"),
        }
    }

    #[test]
    fn aaaa_for_a_known_name_is_empty_not_forwarded() {
        let bytes = reply_of(answer(&query("db", TYPE::AAAA), Some(&view(true)), 512));
        let p = Packet::parse(&bytes).unwrap();
        assert_eq!(p.rcode(), RCODE::NoError);
        assert!(p.answers.is_empty());
    }

    #[test]
    fn reverse_lookup_answers_name_dot_network() {
        let bytes = reply_of(answer(
            &query("3.0.202.10.in-addr.arpa", TYPE::PTR),
            Some(&view(true)),
            512,
        ));
        let p = Packet::parse(&bytes).unwrap();
        match &p.answers[0].rdata {
            RData::PTR(PTR(name)) => assert_eq!(name.to_string(), "db.appnet"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_names_are_forwarded_unless_internal() {
        assert_eq!(
            answer(&query("example.com", TYPE::A), Some(&view(true)), 512),
            Outcome::Forward
        );
        let bytes = reply_of(answer(
            &query("example.com", TYPE::A),
            Some(&view(false)),
            512,
        ));
        assert_eq!(Packet::parse(&bytes).unwrap().rcode(), RCODE::ServerFailure);
        let bytes = reply_of(answer(&query("web", TYPE::A), None, 512));
        assert_eq!(Packet::parse(&bytes).unwrap().rcode(), RCODE::ServerFailure);
    }

    #[test]
    fn garbage_gets_formerr_or_nothing() {
        assert_eq!(answer(b"\x01", Some(&view(true)), 512), Outcome::Drop);
        let mut junk = vec![0xab, 0xcd, 0x01, 0x00, 0x00, 0x05];
        junk.extend_from_slice(&[0xff; 20]);
        let bytes = reply_of(answer(&junk, Some(&view(true)), 512));
        assert_eq!(&bytes[..2], &[0xab, 0xcd]);
        assert_eq!(bytes[3] & 0x0f, 1, "FORMERR");
    }

    #[test]
    fn oversized_udp_answers_are_truncated() {
        let mut v = view(true);
        for i in 0..60u8 {
            v.records.push(HostRecord {
                names: vec!["many".into()],
                addr: Ipv4Addr::new(10, 202, 1, i),
                addr6: None,
                ptr_name: format!("m{i}.appnet"),
            });
        }
        let bytes = reply_of(answer(&query("many", TYPE::A), Some(&v), 512));
        let p = Packet::parse(&bytes).unwrap();
        assert!(p.has_flags(PacketFlag::TRUNCATION));
        assert!(p.answers.is_empty());
        let full = reply_of(answer(&query("many", TYPE::A), Some(&v), 65535));
        assert_eq!(a_records(&full).len(), 60);
    }
}
