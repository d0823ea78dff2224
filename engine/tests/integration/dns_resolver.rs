//! The embedded resolver end to end: a real network namespace (made with `ip netns`), listeners
//! attached inside it, queries sent from inside it over UDP and TCP, forwarding to a real upstream
//! socket on the host, and detach closing the sockets.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_engine::network::dns::{ContainerDnsView, DnsService, DnsViewSource, HostRecord};
use nix::sched::{setns, CloneFlags};
use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, QCLASS, QTYPE, RCODE, TYPE};

struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let name = format!("berth-dns-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        assert!(Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success());
        assert!(Command::new("ip")
            .args(["-n", &name, "link", "set", "lo", "up"])
            .status()
            .unwrap()
            .success());
        Netns { name }
    }
    fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }
    /// Run `f` on a thread inside the namespace (where 127.0.0.11 is the resolver).
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let file = std::fs::File::open(self.path()).unwrap();
        std::thread::spawn(move || {
            setns(file.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

struct FixedViews(Mutex<Option<ContainerDnsView>>);

impl DnsViewSource for FixedViews {
    fn dns_view(&self, container_id: &str) -> Option<ContainerDnsView> {
        assert_eq!(container_id, "c1");
        self.0.lock().unwrap().clone()
    }
}

fn query(name: &str, qtype: TYPE, id: u16) -> Vec<u8> {
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(qtype),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().unwrap()
}

fn ask_udp(q: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.send_to(&q, "127.0.0.11:53")?;
    let mut buf = vec![0u8; 4096];
    let n = s.recv(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn ask_tcp(q: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect("127.0.0.11:53")?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    s.write_all(&framed)?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

fn a_records(bytes: &[u8]) -> Vec<Ipv4Addr> {
    Packet::parse(bytes)
        .unwrap()
        .answers
        .iter()
        .filter_map(|rr| match &rr.rdata {
            RData::A(a) => Some(Ipv4Addr::from(a.address)),
            _ => None,
        })
        .collect()
}

/// A real upstream on the host's loopback answering every A query with 192.0.2.7.
fn start_upstream() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let q = Packet::parse(&buf[..n]).unwrap();
            let mut r = Packet::new_reply(q.id());
            r.questions = q.questions.clone();
            r.answers.push(simple_dns::ResourceRecord::new(
                q.questions[0].qname.clone(),
                CLASS::IN,
                30,
                RData::A(Ipv4Addr::new(192, 0, 2, 7).into()),
            ));
            s.send_to(&r.build_bytes_vec().unwrap(), from).unwrap();
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_answers_inside_the_namespace_forwards_and_detaches() {
    let ns = Netns::new();
    let upstream = start_upstream();
    let views = Arc::new(FixedViews(Mutex::new(Some(ContainerDnsView {
        records: vec![HostRecord {
            names: vec!["web".into(), "web.appnet".into(), "www".into()],
            addr: Ipv4Addr::new(10, 202, 0, 2),
            addr6: None,
            ptr_name: "web.appnet".into(),
        }],
        upstream: vec![upstream],
    }))));
    let dns = DnsService::new(views.clone());
    dns.attach("c1", &ns.path()).expect("attach");
    assert!(dns.is_attached("c1"));

    let r = ns
        .run(|| ask_udp(query("web", TYPE::A, 1)))
        .expect("udp answer");
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(10, 202, 0, 2)]);
    let r = ns
        .run(|| ask_tcp(query("WWW.", TYPE::A, 2)))
        .expect("tcp answer");
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(10, 202, 0, 2)]);

    // Not ours: relayed to the host's upstream from the engine's namespace.
    let r = ns
        .run(|| ask_udp(query("example.org", TYPE::A, 3)))
        .expect("forwarded answer");
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(192, 0, 2, 7)]);
    assert_eq!(Packet::parse(&r).unwrap().id(), 3);

    // An internal-only view: nothing leaves, SERVFAIL.
    views.0.lock().unwrap().as_mut().unwrap().upstream.clear();
    let r = ns
        .run(|| ask_udp(query("example.org", TYPE::A, 4)))
        .expect("servfail");
    assert_eq!(Packet::parse(&r).unwrap().rcode(), RCODE::ServerFailure);

    // Re-attaching replaces the sockets (e.g. after a network connect) without an address clash.
    dns.attach("c1", &ns.path()).expect("re-attach");
    let r = ns
        .run(|| ask_udp(query("web", TYPE::A, 5)))
        .expect("answer");
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(10, 202, 0, 2)]);

    dns.detach("c1");
    assert!(!dns.is_attached("c1"));
    // Aborted tasks drop their sockets on the runtime's next turn.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = ns.run(|| TcpStream::connect("127.0.0.11:53"));
    assert!(refused.is_err(), "tcp listener still open after detach");
}

#[test]
fn attach_to_a_missing_namespace_is_a_clear_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let dns = DnsService::new(Arc::new(FixedViews(Mutex::new(None))));
    let err = dns
        .attach("c1", std::path::Path::new("/run/netns/berth-no-such-ns"))
        .unwrap_err();
    assert!(err.to_string().contains("berth-no-such-ns"), "{err}");
}
