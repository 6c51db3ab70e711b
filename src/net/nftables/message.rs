//! The nfnetlink messages keepvip sends to nf_tables, encoded by hand: seven message kinds and five
//! expressions. rustables is GPL-3.0; netlink-packet-netfilter 0.4 (MIT, same core as rtnetlink) has
//! them too but would add derive_more's proc-macro stack for these ~200 lines; nf_tables 0.1 is a first
//! release. The layouts are the kernel's UAPI
//! (linux/netlink.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h):
//!
//! ```text
//! nlmsghdr   len u32 | type u16 | flags u16 | seq u32 | pid u32      (host byte order)
//! nfgenmsg   family u8 | version u8 (0) | res_id u16 (big endian)
//! nlattr     len u16 | type u16 (0x8000 = nested) | payload, padded to 4 bytes
//! ```
//!
//! nf_tables integers are big endian (NLA_BE32). A change is one batch: BATCH_BEGIN, the messages,
//! BATCH_END, applied by the kernel all or nothing.

use std::net::IpAddr;

/// NFNL_SUBSYS_NFTABLES: the subsystem id in the high byte of a message type.
const SUBSYS_NFTABLES: u16 = 10;
/// NFNL_MSG_BATCH_BEGIN / NFNL_MSG_BATCH_END.
const BATCH_BEGIN: u16 = 0x10;
const BATCH_END: u16 = 0x11;
/// NFPROTO_INET: tables of the `inet` family see IPv4 and IPv6.
const NFPROTO_INET: u8 = 1;
pub const NFPROTO_IPV4: u8 = 2;
pub const NFPROTO_IPV6: u8 = 10;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NLA_F_NESTED: u16 = 0x8000;

/// enum nf_tables_msg_types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageType {
    NewTable = 0,
    DelTable = 2,
    NewChain = 3,
    NewRule = 6,
    NewSet = 9,
    NewSetElem = 12,
    DelSetElem = 14,
}

// Attribute numbers (enum nft_*_attributes).
const TABLE_NAME: u16 = 1;
const CHAIN_TABLE: u16 = 1;
const CHAIN_NAME: u16 = 3;
const CHAIN_HOOK: u16 = 4;
const CHAIN_POLICY: u16 = 5;
const CHAIN_TYPE: u16 = 7;
const HOOK_HOOKNUM: u16 = 1;
const HOOK_PRIORITY: u16 = 2;
const SET_TABLE: u16 = 1;
const SET_NAME: u16 = 2;
const SET_KEY_TYPE: u16 = 4;
const SET_KEY_LEN: u16 = 5;
const SET_ID: u16 = 10;
const SET_ELEM_LIST_TABLE: u16 = 1;
const SET_ELEM_LIST_SET: u16 = 2;
const SET_ELEM_LIST_ELEMENTS: u16 = 3;
const SET_ELEM_KEY: u16 = 1;
const RULE_TABLE: u16 = 1;
const RULE_CHAIN: u16 = 2;
const RULE_EXPRESSIONS: u16 = 4;
const LIST_ELEM: u16 = 1;
const EXPR_NAME: u16 = 1;
const EXPR_DATA: u16 = 2;
const DATA_VALUE: u16 = 1;
const DATA_VERDICT: u16 = 2;
const VERDICT_CODE: u16 = 1;
/// NFT_REG_1: the first 16-byte data register (an IPv6 address fits); NFT_REG_VERDICT is 0.
const REG_1: u32 = 1;
const REG_VERDICT: u32 = 0;

/// Netfilter verdicts (NF_DROP, NF_ACCEPT).
pub const DROP: u32 = 0;
pub const ACCEPT: u32 = 1;
/// Netfilter hooks of the inet family (enum nf_inet_hooks).
pub const HOOK_PREROUTING: u32 = 0;

/// nft's datatype numbers for a set's key (nftables include/datatype.h); the kernel stores them for
/// `nft list` only.
pub const KEY_TYPE_IPV4: u32 = 7;
pub const KEY_TYPE_IPV6: u32 = 8;

/// What a packet field is compared with, in nft terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `meta KEY` into register 1 (NFT_META_NFPROTO = 15, NFT_META_L4PROTO = 16).
    Meta { key: u32 },
    /// Register 1 equals `data` (NFT_CMP_EQ).
    CmpEq { data: Vec<u8> },
    /// `len` bytes at `offset` of header `base` (1 network, 2 transport) into register 1.
    Payload { base: u32, offset: u32, len: u32 },
    /// Register 1 is an element of the named set.
    Lookup { set: String },
    /// The verdict (DROP, ACCEPT).
    Verdict(u32),
}

pub const META_NFPROTO: u32 = 15;
pub const META_L4PROTO: u32 = 16;
pub const BASE_NETWORK: u32 = 1;
pub const BASE_TRANSPORT: u32 = 2;

/// A batch under construction. Every message asks for an acknowledgement, so the sender learns the
/// outcome of each (`acked`).
#[derive(Debug)]
pub struct Batch {
    bytes: Vec<u8>,
    next_seq: u32,
    acked: Vec<u32>,
}

impl Batch {
    /// A batch whose messages are numbered from `first_seq` (BATCH_BEGIN takes it).
    pub fn new(first_seq: u32) -> Batch {
        let mut batch = Batch {
            bytes: Vec::new(),
            next_seq: first_seq,
            acked: Vec::new(),
        };
        batch.control(BATCH_BEGIN);
        batch
    }

    /// `nft add table inet NAME`: creates it, or nothing when it exists.
    pub fn new_table(&mut self, name: &str) {
        self.message(MessageType::NewTable, NLM_F_CREATE, |m| {
            m.string(TABLE_NAME, name)
        });
    }

    /// `nft delete table inet NAME`, with its chains, sets and rules.
    pub fn delete_table(&mut self, name: &str) {
        self.message(MessageType::DelTable, 0, |m| m.string(TABLE_NAME, name));
    }

    /// A base chain: `type filter hook HOOK priority PRIORITY; policy accept;`.
    pub fn new_chain(&mut self, table: &str, name: &str, hook: u32, priority: i32) {
        self.message(MessageType::NewChain, NLM_F_CREATE, |m| {
            m.string(CHAIN_TABLE, table);
            m.string(CHAIN_NAME, name);
            m.nest(CHAIN_HOOK, |m| {
                m.be32(HOOK_HOOKNUM, hook);
                m.be32(HOOK_PRIORITY, priority as u32);
            });
            m.be32(CHAIN_POLICY, ACCEPT);
            m.string(CHAIN_TYPE, "filter");
        });
    }

    /// A named set of addresses (`key_len` 4 or 16); `id` is unique within the batch.
    pub fn new_set(&mut self, table: &str, name: &str, key_type: u32, key_len: u32, id: u32) {
        self.message(MessageType::NewSet, NLM_F_CREATE, |m| {
            m.string(SET_TABLE, table);
            m.string(SET_NAME, name);
            m.be32(SET_KEY_TYPE, key_type);
            m.be32(SET_KEY_LEN, key_len);
            m.be32(SET_ID, id);
        });
    }

    /// A rule appended to `chain`.
    pub fn new_rule(&mut self, table: &str, chain: &str, exprs: &[Expr]) {
        self.message(MessageType::NewRule, NLM_F_CREATE | NLM_F_APPEND, |m| {
            m.string(RULE_TABLE, table);
            m.string(RULE_CHAIN, chain);
            m.nest(RULE_EXPRESSIONS, |m| {
                for expr in exprs {
                    m.nest(LIST_ELEM, |m| m.expr(expr));
                }
            });
        });
    }

    /// `nft add element inet TABLE SET { ADDRESSES }` (present ones are left as they are).
    pub fn add_elements(&mut self, table: &str, set: &str, addresses: &[IpAddr]) {
        self.elements(MessageType::NewSetElem, NLM_F_CREATE, table, set, addresses);
    }

    /// `nft delete element inet TABLE SET { ADDRESSES }` (one absent one fails the batch: ENOENT).
    pub fn delete_elements(&mut self, table: &str, set: &str, addresses: &[IpAddr]) {
        self.elements(MessageType::DelSetElem, 0, table, set, addresses);
    }

    /// The batch with BATCH_END, and the sequence numbers that will be acknowledged.
    pub fn finish(mut self) -> (Vec<u8>, Vec<u32>) {
        self.control(BATCH_END);
        (self.bytes, self.acked)
    }

    /// The sequence number the next batch may start at.
    pub fn next_seq(&self) -> u32 {
        self.next_seq.wrapping_add(1)
    }

    fn elements(
        &mut self,
        kind: MessageType,
        flags: u16,
        table: &str,
        set: &str,
        addrs: &[IpAddr],
    ) {
        self.message(kind, flags, |m| {
            m.string(SET_ELEM_LIST_TABLE, table);
            m.string(SET_ELEM_LIST_SET, set);
            m.nest(SET_ELEM_LIST_ELEMENTS, |m| {
                for address in addrs {
                    m.nest(LIST_ELEM, |m| {
                        m.nest(SET_ELEM_KEY, |m| {
                            m.attr(DATA_VALUE, &address_bytes(*address))
                        });
                    });
                }
            });
        });
    }

    /// BATCH_BEGIN / BATCH_END: family AF_UNSPEC, res_id = the subsystem (big endian).
    fn control(&mut self, kind: u16) {
        let seq = self.take_seq();
        let start = self.header(kind, NLM_F_REQUEST, seq, 0, SUBSYS_NFTABLES);
        self.patch_len(start);
    }

    fn message(&mut self, kind: MessageType, flags: u16, body: impl FnOnce(&mut Attrs<'_>)) {
        let seq = self.take_seq();
        self.acked.push(seq);
        let kind = (SUBSYS_NFTABLES << 8) | kind as u16;
        let start = self.header(
            kind,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            seq,
            NFPROTO_INET,
            0,
        );
        body(&mut Attrs {
            bytes: &mut self.bytes,
        });
        self.patch_len(start);
    }

    fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        seq
    }

    /// nlmsghdr (length patched later, pid 0 = the kernel fills it in) and nfgenmsg.
    fn header(&mut self, kind: u16, flags: u16, seq: u32, family: u8, res_id: u16) -> usize {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(&flags.to_ne_bytes());
        self.bytes.extend_from_slice(&seq.to_ne_bytes());
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.extend_from_slice(&[family, 0]);
        self.bytes.extend_from_slice(&res_id.to_be_bytes());
        start
    }

    fn patch_len(&mut self, start: usize) {
        let len = (self.bytes.len() - start) as u32;
        self.bytes[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

/// Appends attributes to a message.
struct Attrs<'a> {
    bytes: &'a mut Vec<u8>,
}

impl Attrs<'_> {
    /// One attribute: its length counts the 4-byte header and the payload, not the padding.
    fn attr(&mut self, kind: u16, payload: &[u8]) {
        let len = (4 + payload.len()) as u16;
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(payload);
        self.pad();
    }

    /// A NUL-terminated string, as nft sends them.
    fn string(&mut self, kind: u16, value: &str) {
        let mut payload = value.as_bytes().to_vec();
        payload.push(0);
        self.attr(kind, &payload);
    }

    fn be32(&mut self, kind: u16, value: u32) {
        self.attr(kind, &value.to_be_bytes());
    }

    /// A nested attribute: its length covers the (padded) attributes inside.
    fn nest(&mut self, kind: u16, inner: impl FnOnce(&mut Attrs<'_>)) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&[0, 0]);
        self.bytes
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        inner(&mut Attrs { bytes: self.bytes });
        let len = (self.bytes.len() - start) as u16;
        self.bytes[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    /// One expression: NFTA_EXPR_NAME and its NFTA_EXPR_DATA (attribute numbers per expression type).
    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Meta { key } => {
                self.string(EXPR_NAME, "meta");
                self.nest(EXPR_DATA, |m| {
                    m.be32(2, *key); // NFTA_META_KEY
                    m.be32(1, REG_1); // NFTA_META_DREG
                });
            }
            Expr::CmpEq { data } => {
                self.string(EXPR_NAME, "cmp");
                self.nest(EXPR_DATA, |m| {
                    m.be32(1, REG_1); // NFTA_CMP_SREG
                    m.be32(2, 0); // NFTA_CMP_OP: NFT_CMP_EQ
                    m.nest(3, |m| m.attr(DATA_VALUE, data)); // NFTA_CMP_DATA
                });
            }
            Expr::Payload { base, offset, len } => {
                self.string(EXPR_NAME, "payload");
                self.nest(EXPR_DATA, |m| {
                    m.be32(1, REG_1); // NFTA_PAYLOAD_DREG
                    m.be32(2, *base); // NFTA_PAYLOAD_BASE
                    m.be32(3, *offset); // NFTA_PAYLOAD_OFFSET
                    m.be32(4, *len); // NFTA_PAYLOAD_LEN
                });
            }
            Expr::Lookup { set } => {
                self.string(EXPR_NAME, "lookup");
                self.nest(EXPR_DATA, |m| {
                    m.string(1, set); // NFTA_LOOKUP_SET
                    m.be32(2, REG_1); // NFTA_LOOKUP_SREG
                });
            }
            Expr::Verdict(code) => {
                self.string(EXPR_NAME, "immediate");
                self.nest(EXPR_DATA, |m| {
                    m.be32(1, REG_VERDICT); // NFTA_IMMEDIATE_DREG
                    m.nest(2, |m| {
                        // NFTA_IMMEDIATE_DATA
                        m.nest(DATA_VERDICT, |m| m.be32(VERDICT_CODE, *code));
                    });
                });
            }
        }
    }
}

/// An address as the packet carries it (network byte order): the set key.
fn address_bytes(address: IpAddr) -> Vec<u8> {
    match address {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}
