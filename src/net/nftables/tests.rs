//! Byte layouts of the messages, laid out by hand from the kernel's UAPI (little-endian hosts: the
//! netlink headers are in host byte order). `nft --debug=mnl` shows the same attributes for the same
//! commands (its rule carries one more, the set's batch id).
#![cfg(target_endian = "little")]

use super::*;

const BEGIN: [u8; 20] = [
    20, 0, 0, 0, // length
    0x10, 0, // NFNL_MSG_BATCH_BEGIN
    1, 0, // NLM_F_REQUEST
    1, 0, 0, 0, // seq 1
    0, 0, 0, 0, // port id: the kernel's
    0, 0, 0, 10, // AF_UNSPEC, version 0, res_id NFNL_SUBSYS_NFTABLES (big endian)
];

fn end(seq: u8) -> [u8; 20] {
    [
        20, 0, 0, 0, 0x11, 0, 1, 0, seq, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10,
    ]
}

/// nlmsghdr + nfgenmsg of an nf_tables message of the inet family.
fn header(len: u8, kind: u8, flags: [u8; 2], seq: u8) -> Vec<u8> {
    let mut bytes = vec![len, 0, 0, 0, kind, 0x0a, flags[0], flags[1], seq, 0, 0, 0];
    bytes.extend([0, 0, 0, 0, 1, 0, 0, 0]); // port id; NFPROTO_INET, version 0, res_id 0
    bytes
}

/// NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE.
const CREATE: [u8; 2] = [0x05, 0x04];
/// ... | NLM_F_APPEND.
const APPEND: [u8; 2] = [0x05, 0x0c];
/// NLM_F_REQUEST | NLM_F_ACK.
const PLAIN: [u8; 2] = [0x05, 0x00];

const TABLE_NAME: [u8; 12] = [12, 0, 1, 0, b'k', b'e', b'e', b'p', b'v', b'i', b'p', 0];

#[test]
fn a_table_is_created_and_deleted_by_name_in_one_batch() {
    let mut batch = Batch::new(1);
    batch.new_table("keepvip");
    batch.delete_table("keepvip");
    let (bytes, acked) = batch.finish();
    let mut expected = BEGIN.to_vec();
    expected.extend(header(32, 0x00, CREATE, 2)); // NFT_MSG_NEWTABLE
    expected.extend(TABLE_NAME); // NFTA_TABLE_NAME "keepvip\0"
    expected.extend(header(32, 0x02, PLAIN, 3)); // NFT_MSG_DELTABLE
    expected.extend(TABLE_NAME);
    expected.extend(end(4));
    assert_eq!(bytes, expected);
    assert_eq!(acked, vec![2, 3], "BATCH_BEGIN/END are not acknowledged");
}

#[test]
fn an_ipv4_element_is_its_address_in_network_order() {
    let mut batch = Batch::new(1);
    batch.add_elements(TABLE, "vips4", &["192.0.2.10".parse().unwrap()]);
    let (bytes, _) = batch.finish();
    let mut expected = BEGIN.to_vec();
    expected.extend(header(64, 0x0c, CREATE, 2)); // NFT_MSG_NEWSETELEM
    expected.extend(TABLE_NAME); // NFTA_SET_ELEM_LIST_TABLE
    expected.extend([10, 0, 2, 0, b'v', b'i', b'p', b's', b'4', 0, 0, 0]); // ..._LIST_SET, padded
    expected.extend([20, 0, 3, 0x80]); // NFTA_SET_ELEM_LIST_ELEMENTS (nested)
    expected.extend([16, 0, 1, 0x80]); //   NFTA_LIST_ELEM
    expected.extend([12, 0, 1, 0x80]); //     NFTA_SET_ELEM_KEY
    expected.extend([8, 0, 1, 0, 192, 0, 2, 10]); //       NFTA_DATA_VALUE 192.0.2.10
    expected.extend(end(3));
    assert_eq!(bytes, expected);
}

#[test]
fn the_ipv4_drop_rule_loads_the_destination_and_looks_it_up() {
    let mut batch = Batch::new(1);
    batch.new_rule(TABLE, CHAIN, &rules()[2]);
    let (bytes, _) = batch.finish();
    let mut expected = BEGIN.to_vec();
    expected.extend(header(16, 0x06, APPEND, 2)); // NFT_MSG_NEWRULE; length 272 = 0x110
    expected[20 + 1] = 1;
    expected.extend(TABLE_NAME); // NFTA_RULE_TABLE
    expected.extend([15, 0, 2, 0]); // NFTA_RULE_CHAIN "prerouting\0", padded
    expected.extend(b"prerouting\0\0");
    expected.extend([224, 0, 4, 0x80]); // NFTA_RULE_EXPRESSIONS
    // meta nfproto => reg 1
    expected.extend([36, 0, 1, 0x80, 9, 0, 1, 0]);
    expected.extend(b"meta\0\0\0\0");
    expected.extend([20, 0, 2, 0x80]); // NFTA_EXPR_DATA
    expected.extend([8, 0, 2, 0, 0, 0, 0, 15]); // NFTA_META_KEY NFT_META_NFPROTO
    expected.extend([8, 0, 1, 0, 0, 0, 0, 1]); // NFTA_META_DREG NFT_REG_1
    // cmp eq reg 1 NFPROTO_IPV4
    expected.extend([44, 0, 1, 0x80, 8, 0, 1, 0]);
    expected.extend(b"cmp\0");
    expected.extend([32, 0, 2, 0x80]);
    expected.extend([8, 0, 1, 0, 0, 0, 0, 1]); // NFTA_CMP_SREG
    expected.extend([8, 0, 2, 0, 0, 0, 0, 0]); // NFTA_CMP_OP NFT_CMP_EQ
    expected.extend([12, 0, 3, 0x80, 5, 0, 1, 0, 2, 0, 0, 0]); // NFTA_CMP_DATA { VALUE 02 }
    // payload load 4b @ network header + 16 => reg 1
    expected.extend([52, 0, 1, 0x80, 12, 0, 1, 0]);
    expected.extend(b"payload\0");
    expected.extend([36, 0, 2, 0x80]);
    expected.extend([8, 0, 1, 0, 0, 0, 0, 1]); // NFTA_PAYLOAD_DREG
    expected.extend([8, 0, 2, 0, 0, 0, 0, 1]); // NFTA_PAYLOAD_BASE network header
    expected.extend([8, 0, 3, 0, 0, 0, 0, 16]); // NFTA_PAYLOAD_OFFSET
    expected.extend([8, 0, 4, 0, 0, 0, 0, 4]); // NFTA_PAYLOAD_LEN
    // lookup reg 1 set vips4
    expected.extend([40, 0, 1, 0x80, 11, 0, 1, 0]);
    expected.extend(b"lookup\0\0");
    expected.extend([24, 0, 2, 0x80]);
    expected.extend([10, 0, 1, 0]); // NFTA_LOOKUP_SET
    expected.extend(b"vips4\0\0\0");
    expected.extend([8, 0, 2, 0, 0, 0, 0, 1]); // NFTA_LOOKUP_SREG
    // immediate reg 0 drop
    expected.extend([48, 0, 1, 0x80, 14, 0, 1, 0]);
    expected.extend(b"immediate\0\0\0");
    expected.extend([28, 0, 2, 0x80]);
    expected.extend([8, 0, 1, 0, 0, 0, 0, 0]); // NFTA_IMMEDIATE_DREG NFT_REG_VERDICT
    expected.extend([16, 0, 2, 0x80]); // NFTA_IMMEDIATE_DATA
    expected.extend([12, 0, 2, 0x80]); //   NFTA_DATA_VERDICT
    expected.extend([8, 0, 1, 0, 0, 0, 0, 0]); //     NFTA_VERDICT_CODE NF_DROP
    expected.extend(end(3));
    assert_eq!(expected.len() - 40, 272);
    assert_eq!(bytes, expected);
}

#[test]
fn the_chain_hooks_prerouting_at_filter_priority() {
    let mut batch = Batch::new(1);
    batch.new_chain(TABLE, CHAIN, HOOK_PREROUTING, PRIORITY_FILTER);
    let (bytes, _) = batch.finish();
    let body = &bytes[40..bytes.len() - 20];
    let mut expected = TABLE_NAME.to_vec(); // NFTA_CHAIN_TABLE
    expected.extend([15, 0, 3, 0]); // NFTA_CHAIN_NAME
    expected.extend(b"prerouting\0\0");
    expected.extend([20, 0, 4, 0x80]); // NFTA_CHAIN_HOOK
    expected.extend([8, 0, 1, 0, 0, 0, 0, 0]); // NFTA_HOOK_HOOKNUM NF_INET_PRE_ROUTING
    expected.extend([8, 0, 2, 0, 0, 0, 0, 0]); // NFTA_HOOK_PRIORITY NF_IP_PRI_FILTER
    expected.extend([8, 0, 5, 0, 0, 0, 0, 1]); // NFTA_CHAIN_POLICY NF_ACCEPT
    expected.extend([11, 0, 7, 0]); // NFTA_CHAIN_TYPE "filter\0", padded
    expected.extend(b"filter\0\0");
    assert_eq!(body, expected);
    assert_eq!(&bytes[20..24], &[20 + 68, 0, 0, 0]);
    assert_eq!(
        &bytes[24..28],
        &[0x03, 0x0a, 0x05, 0x04],
        "NFT_MSG_NEWCHAIN, create"
    );
}

#[test]
fn an_ipv6_set_has_16_byte_keys_and_its_batch_id() {
    let mut batch = Batch::new(1);
    batch.new_set(TABLE, "vips6", KEY_TYPE_IPV6, 16, 2);
    let (bytes, _) = batch.finish();
    let body = &bytes[40..bytes.len() - 20];
    let mut expected = TABLE_NAME.to_vec(); // NFTA_SET_TABLE
    expected.extend([10, 0, 2, 0]); // NFTA_SET_NAME
    expected.extend(b"vips6\0\0\0");
    expected.extend([8, 0, 4, 0, 0, 0, 0, 8]); // NFTA_SET_KEY_TYPE ipv6_addr (nft's type 8)
    expected.extend([8, 0, 5, 0, 0, 0, 0, 16]); // NFTA_SET_KEY_LEN
    expected.extend([8, 0, 10, 0, 0, 0, 0, 2]); // NFTA_SET_ID
    assert_eq!(body, expected);
}

#[test]
fn addresses_go_to_the_set_of_their_family() {
    let addresses: Vec<IpAddr> = ["192.0.2.10", "2001:db8::10", "198.51.100.1"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let mut seen = Vec::new();
    for_each_family(&addresses, |set, family| {
        seen.push((set.to_owned(), family.to_vec()))
    });
    assert_eq!(
        seen,
        vec![
            (SET_V4.to_owned(), vec![addresses[0], addresses[2]]),
            (SET_V6.to_owned(), vec![addresses[1]]),
        ]
    );
    let mut none = 0;
    for_each_family(&[], |_, _| none += 1);
    assert_eq!(none, 0, "no message for an empty family");
}

#[test]
fn replacing_the_table_adds_it_before_deleting_so_the_delete_cannot_fail() {
    let mut batch = Batch::new(1);
    replace_table(&mut batch);
    let (bytes, acked) = batch.finish();
    // Message types in order (the byte after each message's type low byte is the subsystem, 0x0a).
    let mut kinds = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        kinds.push(u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]));
        at += len as usize;
    }
    assert_eq!(at, bytes.len(), "message lengths add up to the batch");
    let newtable = 0x0a00;
    let deltable = 0x0a02;
    let (newset, newchain, newrule) = (0x0a09, 0x0a03, 0x0a06);
    assert_eq!(
        kinds,
        vec![
            0x10, newtable, deltable, newtable, newset, newset, newchain, newrule, newrule,
            newrule, newrule, 0x11
        ]
    );
    assert_eq!(acked, (2..=11).collect::<Vec<u32>>());
}
