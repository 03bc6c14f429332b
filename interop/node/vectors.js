#!/usr/bin/env node
// Generates byte-exact SMPP test vectors with node-smpp (npm package "smpp").
//
//   cd interop/node && npm ci && node vectors.js
//
// Writes (relative to the repo root):
//   pdu/testdata/nodesmpp/vectors.txt   "<command_name> <hex of whole PDU>" per line, '#' = comment
//   pdu/testdata/nodesmpp/decoded.jsonl node-smpp's own decode of each vector, one JSON object per line
//
// Every PDU is built with node-smpp's PDU class (new smpp.PDU(command, options).toBuffer()) and
// decoded with smpp.PDU.fromBuffer(buf). Nothing here depends on the clock or on randomness, so
// the output is identical on every run.
'use strict';

const fs = require('fs');
const path = require('path');
const smpp = require('smpp');
const smppVersion = require('smpp/package.json').version;

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const OUT_DIR = path.join(REPO_ROOT, 'pdu', 'testdata', 'nodesmpp');

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s) => Buffer.from(s, 'ascii');

// Delivery receipt text (fields.md / receipts.md style), fixed dates so output is deterministic.
const DLR_OK = 'id:3f2a9c1e-0001 sub:001 dlvrd:001 submit date:2511221045 done date:2511221046 ' +
	'stat:DELIVRD err:000 text:Hello from smppk';
const DLR_FAIL = 'id:3f2a9c1e-0002 sub:001 dlvrd:000 submit date:2511221045 done date:2511231045 ' +
	'stat:UNDELIV err:034 text:Your code is 4711';

// 300-octet payload: too long for short_message, so it must travel in message_payload.
const LONG_PAYLOAD = Buffer.from(
	Array.from({length: 300}, (_, i) => 'smppkit-interop-'.charCodeAt(i % 16)));

// Each entry: [label comment or null, command, options]. Options objects are created fresh here
// and used once (node-smpp's encode filters mutate them).
const vectors = [
	// ---- session management -------------------------------------------------------------
	['bind_transceiver: worked example from pdus.md §2 (seq 1, v3.4)', 'bind_transceiver', {
		sequence_number: 1, system_id: 'esme1', password: 'pw', system_type: '',
		interface_version: 0x34, addr_ton: 0, addr_npi: 0, address_range: ''}],
	['bind_transceiver: interface_version omitted -> node-smpp default 0x50', 'bind_transceiver', {
		sequence_number: 2, system_id: 'smppkit', password: 'secret08', system_type: 'OTA',
		addr_ton: 1, addr_npi: 1, address_range: '[13579]$'}],
	['bind_transmitter: all fields used, max-length system_id (15 chars) and password (8 chars)', 'bind_transmitter', {
		sequence_number: 3, system_id: 'smppkit-tx-0001', password: 'p4ssw0rd', system_type: 'VMS',
		interface_version: 0x34, addr_ton: 1, addr_npi: 1, address_range: ''}],
	['bind_receiver: address_range regexp', 'bind_receiver', {
		sequence_number: 4, system_id: 'esme-rx', password: 'rxpw', system_type: '',
		interface_version: 0x34, addr_ton: 2, addr_npi: 1, address_range: '^4477'}],
	['bind_transmitter_resp with sc_interface_version 0x34', 'bind_transmitter_resp', {
		sequence_number: 3, system_id: 'SMSC01', sc_interface_version: 0x34}],
	['bind_receiver_resp with sc_interface_version 0x50', 'bind_receiver_resp', {
		sequence_number: 4, system_id: 'SMSC01', sc_interface_version: 0x50}],
	['bind_transceiver_resp with sc_interface_version 0x34', 'bind_transceiver_resp', {
		sequence_number: 1, system_id: 'SMSC01', sc_interface_version: 0x34}],
	['bind_transceiver_resp without TLV', 'bind_transceiver_resp', {
		sequence_number: 2, system_id: 'MC-GW'}],
	['bind_transceiver_resp error ESME_RINVPASWD (0x0E): header only', 'bind_transceiver_resp', {
		sequence_number: 5, command_status: 0x0000000E, system_id: 'SMSC01'}],
	['outbind', 'outbind', {
		sequence_number: 9, system_id: 'SMSC01', password: 'outpw'}],
	['outbind with NULL password', 'outbind', {
		sequence_number: 10, system_id: 'SMSC02', password: ''}],
	['enquire_link: worked example from pdus.md §2 (seq 7)', 'enquire_link', {sequence_number: 7}],
	['enquire_link_resp: worked example from pdus.md §2 (seq 7)', 'enquire_link_resp', {sequence_number: 7}],
	['enquire_link_resp with v5.0 congestion_state TLV (allowed on any response)', 'enquire_link_resp', {
		sequence_number: 8, congestion_state: 42}],
	['unbind', 'unbind', {sequence_number: 0x7FFFFFFF}],
	['unbind_resp', 'unbind_resp', {sequence_number: 0x7FFFFFFF}],
	['generic_nack ESME_RINVCMDID (0x03)', 'generic_nack', {
		sequence_number: 0x00010203, command_status: 0x00000003}],
	['generic_nack ESME_RINVCMDLEN (0x02) for an undecodable header: sequence_number 0 is the spec value here',
		'generic_nack', {sequence_number: 0, command_status: 0x00000002}],

	// ---- submit_sm / submit_sm_resp ----------------------------------------------------------
	['submit_sm: plain GSM text, relative validity, receipt requested, callback_num + user_message_reference', 'submit_sm', {
		sequence_number: 11, service_type: '', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'SMPPKit', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123',
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '000002000000000R', registered_delivery: 1, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 0, short_message: ascii('Hello from smppkit'),
		user_message_reference: 0x1234,
		callback_num: [{digit_mode: 1, ton: 1, npi: 1, number: '447700900999'}],
		callback_num_pres_ind: [0x01],
		callback_num_atag: [{encoding: 0x00, display: 'Helpdesk'}]}],
	['submit_sm: segment 2/3 of a concatenated UCS2 message via sar_* trio, absolute schedule time', 'submit_sm', {
		sequence_number: 12, service_type: 'CMT', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900001', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123',
		esm_class: 0, protocol_id: 0, priority_flag: 1, schedule_delivery_time: '251122104500004+',
		validity_period: '251123104500004+', registered_delivery: 0x11, replace_if_present_flag: 0,
		data_coding: 0x08, sm_default_msg_id: 0,
		short_message: Buffer.from('Part two: Привет, smppkit!', 'utf16le').swap16(),
		sar_msg_ref_num: 0x0ABC, sar_total_segments: 3, sar_segment_seqnum: 2,
		more_messages_to_send: 1}],
	['submit_sm: UDH concatenation (esm_class 0x40, IEI 00) in short_message, replace_if_present', 'submit_sm', {
		sequence_number: 13, service_type: '', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'Bank', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123',
		esm_class: 0x40, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 1,
		data_coding: 0, sm_default_msg_id: 0,
		short_message: Buffer.concat([hex('050003 7f 02 01'), ascii('First part of a long text')])}],
	['submit_sm: WAP push style, 8-bit binary with source_port/dest_port and payload_type', 'submit_sm', {
		sequence_number: 14, service_type: 'WAP', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900001', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900124',
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0x04, sm_default_msg_id: 0,
		short_message: hex('01 06 04 03 ae 81 ea 8d ca 02 05 6a 00 45 c6 0c 03'),
		source_port: 9200, dest_port: 2948, payload_type: 0}],
	['submit_sm: sm_length 0 with 300-octet message_payload, qos_time_to_live, set_dpf, privacy, language, subunits', 'submit_sm', {
		sequence_number: 15, service_type: '', source_addr_ton: 0, source_addr_npi: 0,
		source_addr: '', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900125',
		esm_class: 0x03, protocol_id: 0, priority_flag: 3, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0x01, replace_if_present_flag: 0,
		data_coding: 0x04, sm_default_msg_id: 0, short_message: Buffer.alloc(0),
		message_payload: LONG_PAYLOAD, qos_time_to_live: 86400, set_dpf: 1, privacy_indicator: 1,
		language_indicator: 1, dest_addr_subunit: 1, source_addr_subunit: 3,
		dest_network_type: 1, dest_bearer_type: 1, source_network_type: 1, source_bearer_type: 1,
		dest_telematics_id: 0x0100, source_telematics_id: 0x0100}],
	['submit_sm: CDMA/TDMA TLVs (display_time, sms_signal, ms_validity, alert_on_message_delivery, its_*, user_response_code, ms_msg_wait_facilities, number_of_messages, subaddresses)', 'submit_sm', {
		sequence_number: 16, service_type: 'VMN', source_addr_ton: 2, source_addr_npi: 1,
		source_addr: '5551234', dest_addr_ton: 2, dest_addr_npi: 1, destination_addr: '5559876',
		esm_class: 0, protocol_id: 0, priority_flag: 2, schedule_delivery_time: '',
		validity_period: '000000013000000R', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0x01, sm_default_msg_id: 0, short_message: ascii('You have 3 new voicemails'),
		display_time: 1, sms_signal: 0x0102, ms_validity: hex('04 01 00 1e'),
		alert_on_message_delivery: 2, its_reply_type: 5, its_session_info: hex('07 03'),
		user_response_code: 9, ms_msg_wait_facilities: 0x80, number_of_messages: 3,
		source_subaddress: hex('a0 31 32 33'), dest_subaddress: hex('80 49 00 01 02')}],
	['submit_sm: v5.0 network TLVs (network/node ids, billing_identification, number portability)', 'submit_sm', {
		sequence_number: 17, service_type: '', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '14155550100', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '14155550199',
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 0, short_message: ascii('NP test'),
		source_network_id: '1310260', source_node_id: '000123',
		dest_network_id: '2310012345', dest_node_id: '000456',
		billing_identification: {format: 0x80, data: hex('de ad be ef')},
		dest_addr_np_resolution: 2, dest_addr_np_information: '4155550000', dest_addr_np_country: 1}],
	['submit_sm: text given as a JS string, node-smpp UCS2 encoder (data_coding 0x08)', 'submit_sm', {
		sequence_number: 18, service_type: '', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'SMPPKit', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123',
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0x08, sm_default_msg_id: 0, short_message: 'Grüße €5 — ok'}],
	['submit_sm_resp', 'submit_sm_resp', {sequence_number: 11, message_id: '3f2a9c1e-0001'}],
	['submit_sm_resp with v5.0 additional_status_info_text and congestion_state', 'submit_sm_resp', {
		sequence_number: 12, message_id: '0000000000000000000000000000000000000000000000000000000000abcdef',
		additional_status_info_text: 'queued', congestion_state: 75}],
	['submit_sm_resp error ESME_RSUBMITFAIL (0x45): header only', 'submit_sm_resp', {
		sequence_number: 13, command_status: 0x00000045}],

	// ---- submit_multi / submit_multi_resp ----------------------------------------------------
	['submit_multi: 2 SME addresses + 1 distribution list', 'submit_multi', {
		sequence_number: 21, service_type: '', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'SMPPKit',
		dest_address: [
			{dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900111'},
			{dl_name: 'friends'},
			{dest_addr_ton: 2, dest_addr_npi: 8, destination_addr: '07700900222'}],
		esm_class: 0, protocol_id: 0, priority_flag: 2, schedule_delivery_time: '',
		validity_period: '251124000000012-', registered_delivery: 1, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 0, short_message: ascii('Team meeting at 10'),
		user_message_reference: 0x0042}],
	['submit_multi: single distribution list, canned message (sm_default_msg_id 5, sm_length 0)', 'submit_multi', {
		sequence_number: 22, service_type: 'CMT', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900001',
		dest_address: [{dl_name: 'all-staff'}],
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 5, short_message: Buffer.alloc(0)}],
	['submit_multi_resp with 2 unsuccess_sme entries', 'submit_multi_resp', {
		sequence_number: 21, message_id: 'M-000777',
		unsuccess_sme: [
			{dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900111', error_status_code: 0x0000000B},
			{dest_addr_ton: 2, dest_addr_npi: 8, destination_addr: '07700900222', error_status_code: 0x00000045}]}],
	['submit_multi_resp, all accepted (no_unsuccess 0)', 'submit_multi_resp', {
		sequence_number: 22, message_id: 'M-000778', unsuccess_sme: []}],

	// ---- deliver_sm / deliver_sm_resp --------------------------------------------------------
	['deliver_sm: mobile-originated text', 'deliver_sm', {
		sequence_number: 31, service_type: '', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900123', dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: '88000',
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 0, short_message: ascii('STOP'),
		source_port: 0, user_message_reference: 7}],
	['deliver_sm: delivery receipt DELIVRD with receipted_message_id/message_state/network_error_code', 'deliver_sm', {
		sequence_number: 32, service_type: '', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900123', dest_addr_ton: 5, dest_addr_npi: 0, destination_addr: 'SMPPKit',
		esm_class: 0x04, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 0, short_message: ascii(DLR_OK),
		receipted_message_id: '3f2a9c1e-0001', message_state: 2, network_error_code: hex('03 0000'),
		user_message_reference: 0x1234}],
	['deliver_sm: delivery receipt UNDELIV (GSM error 34), dpf_result', 'deliver_sm', {
		sequence_number: 33, service_type: '', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900124', dest_addr_ton: 5, dest_addr_npi: 0, destination_addr: 'SMPPKit',
		esm_class: 0x04, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0, sm_default_msg_id: 0, short_message: ascii(DLR_FAIL),
		receipted_message_id: '3f2a9c1e-0002', message_state: 5, network_error_code: hex('03 0022'),
		dpf_result: 0}],
	['deliver_sm: USSD with ussd_service_op and its_session_info', 'deliver_sm', {
		sequence_number: 34, service_type: 'USSD', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900123', dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: '*100#',
		esm_class: 0, protocol_id: 0, priority_flag: 0, schedule_delivery_time: '',
		validity_period: '', registered_delivery: 0, replace_if_present_flag: 0,
		data_coding: 0x0F, sm_default_msg_id: 0, short_message: ascii('1'),
		ussd_service_op: 1, its_session_info: hex('2a 02')}],
	['deliver_sm_resp (message_id NULL)', 'deliver_sm_resp', {sequence_number: 31, message_id: ''}],
	['deliver_sm_resp error ESME_RX_T_APPN (0x64): header only', 'deliver_sm_resp', {
		sequence_number: 32, command_status: 0x00000064}],

	// ---- data_sm / data_sm_resp --------------------------------------------------------------
	['data_sm: WDP datagram in message_payload with ports, payload_type, more_messages_to_send, sar trio', 'data_sm', {
		sequence_number: 41, service_type: 'WAP', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900001', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '447700900123',
		esm_class: 0x01, registered_delivery: 0, data_coding: 0x04,
		message_payload: hex('01 06 04 03 ae 81 ea 8d ca 02 05 6a 00 45 c6 0c 03 77 77 77 00'),
		source_port: 9200, dest_port: 2948, payload_type: 0, more_messages_to_send: 0,
		sar_msg_ref_num: 0x0101, sar_total_segments: 1, sar_segment_seqnum: 1}],
	['data_sm: MC->ESME receipt carried in data_sm (esm_class 0x04)', 'data_sm', {
		sequence_number: 42, service_type: '', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900123', dest_addr_ton: 5, dest_addr_npi: 0, destination_addr: 'SMPPKit',
		esm_class: 0x04, registered_delivery: 0, data_coding: 0,
		message_payload: ascii(DLR_OK),
		receipted_message_id: '3f2a9c1e-0001', message_state: 2, network_error_code: hex('03 0000')}],
	['data_sm_resp', 'data_sm_resp', {sequence_number: 41, message_id: 'D-00041'}],
	['data_sm_resp with delivery_failure_reason/network_error_code/additional_status_info_text/dpf_result', 'data_sm_resp', {
		sequence_number: 42, message_id: 'D-00042', delivery_failure_reason: 3,
		network_error_code: hex('03 001b'), additional_status_info_text: 'temporary network error',
		dpf_result: 1}],

	// ---- query_sm / cancel_sm / replace_sm -------------------------------------------------
	['query_sm', 'query_sm', {
		sequence_number: 51, message_id: '3f2a9c1e-0001', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'SMPPKit'}],
	['query_sm_resp DELIVERED with final_date', 'query_sm_resp', {
		sequence_number: 51, message_id: '3f2a9c1e-0001', final_date: '251122104612000+',
		message_state: 2, error_code: 0}],
	['query_sm_resp ENROUTE, NULL final_date, error_code set', 'query_sm_resp', {
		sequence_number: 52, message_id: '3f2a9c1e-0002', final_date: '',
		message_state: 1, error_code: 0x22}],
	['cancel_sm by message_id', 'cancel_sm', {
		sequence_number: 61, service_type: '', message_id: '3f2a9c1e-0001', source_addr_ton: 5,
		source_addr_npi: 0, source_addr: 'SMPPKit', dest_addr_ton: 1, dest_addr_npi: 1,
		destination_addr: '447700900123'}],
	['cancel_sm all pending for service_type (message_id NULL)', 'cancel_sm', {
		sequence_number: 62, service_type: 'CMT', message_id: '', source_addr_ton: 1,
		source_addr_npi: 1, source_addr: '447700900001', dest_addr_ton: 1, dest_addr_npi: 1,
		destination_addr: '447700900123'}],
	['cancel_sm_resp', 'cancel_sm_resp', {sequence_number: 61}],
	['cancel_sm_resp error ESME_RCANCELFAIL (0x11): header only', 'cancel_sm_resp', {
		sequence_number: 62, command_status: 0x00000011}],
	['replace_sm with new text and relative validity', 'replace_sm', {
		sequence_number: 71, message_id: '3f2a9c1e-0001', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'SMPPKit', schedule_delivery_time: '', validity_period: '000001000000000R',
		registered_delivery: 1, sm_default_msg_id: 0, short_message: ascii('Updated text')}],
	['replace_sm v5.0 with message_payload (sm_length 0) and absolute schedule', 'replace_sm', {
		sequence_number: 72, message_id: '3f2a9c1e-0002', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '447700900001', schedule_delivery_time: '251201090000000+', validity_period: '',
		registered_delivery: 0, sm_default_msg_id: 0, short_message: Buffer.alloc(0),
		message_payload: ascii('Replacement text via payload')}],
	['replace_sm_resp', 'replace_sm_resp', {sequence_number: 71}],

	// ---- alert_notification --------------------------------------------------------------------
	['alert_notification with ms_availability_status 0 (available)', 'alert_notification', {
		sequence_number: 81, source_addr_ton: 1, source_addr_npi: 1, source_addr: '447700900123',
		esme_addr_ton: 2, esme_addr_npi: 1, esme_addr: '88000', ms_availability_status: 0}],
	['alert_notification with ms_availability_status 2 (unavailable)', 'alert_notification', {
		sequence_number: 82, source_addr_ton: 1, source_addr_npi: 1, source_addr: '447700900124',
		esme_addr_ton: 0, esme_addr_npi: 0, esme_addr: 'smppkit', ms_availability_status: 2}],

	// ---- v5.0 broadcast ------------------------------------------------------------------------
	['broadcast_sm: 2 areas, content type GSM/weather, rep_num, every 2 hours, payload + optional TLVs', 'broadcast_sm', {
		sequence_number: 91, service_type: '', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'CBC', message_id: '', priority_flag: 0, schedule_delivery_time: '',
		validity_period: '000001000000000R', replace_if_present_flag: 0, data_coding: 0x01,
		sm_default_msg_id: 0,
		broadcast_area_identifier: [{format: 0x00, data: 'London'}, {format: 0x00, data: 'Paris'}],
		broadcast_content_type: {network: 1, content_type: 0x0033},
		broadcast_rep_num: 5,
		broadcast_frequency_interval: {unit: 0x0A, interval: 2},
		message_payload: ascii('Storm warning: stay indoors'),
		broadcast_channel_indicator: 0, broadcast_message_class: 0,
		broadcast_content_type_info: 'wx', broadcast_service_group: 'grp1',
		user_message_reference: 0x0501}],
	['broadcast_sm: broadcast replace by message_id, polygon area as raw Buffer', 'broadcast_sm', {
		sequence_number: 92, service_type: 'CBS', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'CBC', message_id: 'BC-0001', priority_flag: 1, schedule_delivery_time: '',
		validity_period: '', replace_if_present_flag: 1, data_coding: 0x01, sm_default_msg_id: 0,
		broadcast_area_identifier: [hex('02 50 00 10 20 00 30 40 00 50 60 00 70 80')],
		broadcast_content_type: {network: 0, content_type: 0x0001},
		broadcast_rep_num: 0,
		broadcast_frequency_interval: {unit: 0x09, interval: 30},
		message_payload: ascii('Update: storm passed')}],
	['broadcast_sm_resp', 'broadcast_sm_resp', {sequence_number: 91, message_id: 'BC-0001'}],
	['broadcast_sm_resp with failed_broadcast_area_identifier (tag 0x0606) + broadcast_error_status', 'broadcast_sm_resp', {
		sequence_number: 92, message_id: 'BC-0002',
		failed_broadcast_area_identifier: [{format: 0x00, data: 'Paris'}],
		broadcast_error_status: [0x00000108]}],
	['query_broadcast_sm by message_id', 'query_broadcast_sm', {
		sequence_number: 93, message_id: 'BC-0001', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'CBC'}],
	['query_broadcast_sm by user_message_reference (message_id NULL)', 'query_broadcast_sm', {
		sequence_number: 94, message_id: '', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'CBC', user_message_reference: 0x0501}],
	['query_broadcast_sm_resp: 1 area (node-smpp can hold only one broadcast_area_success), NUL-terminated broadcast_end_time', 'query_broadcast_sm_resp', {
		sequence_number: 93, message_id: 'BC-0001', message_state: 1,
		broadcast_area_identifier: [{format: 0x00, data: 'London'}],
		broadcast_area_success: 87,
		broadcast_end_time: '251122120000000+\u0000',
		user_message_reference: 0x0501}],
	['cancel_broadcast_sm by message_id with broadcast_content_type', 'cancel_broadcast_sm', {
		sequence_number: 95, service_type: '', message_id: 'BC-0001', source_addr_ton: 5,
		source_addr_npi: 0, source_addr: 'CBC',
		broadcast_content_type: {network: 1, content_type: 0x0033}}],
	['cancel_broadcast_sm by user_message_reference', 'cancel_broadcast_sm', {
		sequence_number: 96, service_type: 'CBS', message_id: '', source_addr_ton: 5,
		source_addr_npi: 0, source_addr: 'CBC', user_message_reference: 0x0501}],
	['cancel_broadcast_sm_resp', 'cancel_broadcast_sm_resp', {sequence_number: 95}],
];

// PDUs / variants node-smpp cannot produce (documented in the output header).
const CANNOT_ENCODE = [
	'error responses WITH a body: new PDU(..., {command_status != 0}) ignores all fields and toBuffer() emits the 16-octet header only',
	'TLVs on error responses (e.g. congestion_state, additional_status_info_text with command_status != 0): dropped for the same reason',
	'alert_on_message_delivery with Length 0 (the v3.4 form / v5.0 default): node-smpp types it int8 and always writes Length 1',
	'several broadcast_area_success TLVs in one query_broadcast_sm_resp: the TLV is not "multiple" in node-smpp (one value only; on decode the last one wins)',
	'vendor-specific / unknown TLV tags: only encodable after smpp.addTLV(); unknown options are silently dropped',
	'an explicit sm_length / number_of_dests / no_unsuccess: always computed from the data',
	'PDUs longer than 16384 octets cannot be decoded (PDU.maxLength), so message_payload near 64K is not round-trippable',
	'no response PDUs exist for outbind and alert_notification (correct per spec); no other v3.4/v5.0 command is missing',
];

// ---- JSON conversion of node-smpp's decoded objects -----------------------------------------
function toJSONValue(v) {
	if (Buffer.isBuffer(v)) return v.toString('hex');
	if (v instanceof Date) return v.toISOString();
	if (Array.isArray(v)) return v.map(toJSONValue);
	if (v && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v)) o[k] = toJSONValue(v[k]);
		return o;
	}
	return v;
}

const HEADER_KEYS = new Set(['command', 'command_length', 'command_id', 'command_status', 'sequence_number']);

function fieldsOf(pdu) {
	const o = {};
	for (const k of Object.keys(pdu)) {
		if (!HEADER_KEYS.has(k)) o[k] = toJSONValue(pdu[k]);
	}
	return o;
}

// Wire-level decode: node-smpp's own parser (PDU.fromBuffer) with its post-decode filters
// switched off, so every field is exactly what node-smpp's type readers produced
// (C-strings as strings, octet strings as Buffers -> hex, integers as numbers).
function decodeRaw(buf) {
	const saved = smpp.PDU.prototype._filter;
	smpp.PDU.prototype._filter = function() {};
	try {
		return smpp.PDU.fromBuffer(buf);
	} finally {
		smpp.PDU.prototype._filter = saved;
	}
}

// Application-level decode: node-smpp's full decode including its filters (short_message text
// decoding, callback_num/broadcast_* objects...). Exception: the time filter is disabled because
// it turns relative times into Date objects computed from the current clock (non-deterministic).
function decodeFiltered(buf) {
	const saved = smpp.filters.time.decode;
	smpp.filters.time.decode = (v) => v;
	try {
		return smpp.PDU.fromBuffer(buf);
	} finally {
		smpp.filters.time.decode = saved;
	}
}

function main() {
	const lines = [];
	const jsonl = [];
	lines.push(`# SMPP test vectors produced by node-smpp (npm "smpp") version ${smppVersion}`);
	lines.push('# Generator: interop/node/vectors.js (cd interop/node && npm ci && node vectors.js). Do not edit by hand.');
	lines.push('# Format: "<command_name> <lowercase hex of the whole PDU, header included>"; lines starting with # are comments.');
	lines.push('# The comment line before each vector describes it. Companion file: decoded.jsonl (same order).');
	lines.push('# Known node-smpp deviations from the spec: see interop/node/NOTES.md.');
	lines.push('#');
	lines.push('# Not encodable with node-smpp ' + smppVersion + ':');
	for (const c of CANNOT_ENCODE) lines.push('#   - ' + c);
	lines.push('#');

	const covered = new Set();
	for (const [label, command, options] of vectors) {
		const pdu = new smpp.PDU(command, options);
		const buf = pdu.toBuffer();

		// Basic self-checks on node-smpp's output.
		if (buf.readUInt32BE(0) !== buf.length) {
			throw new Error(`${command}: command_length ${buf.readUInt32BE(0)} != ${buf.length}`);
		}
		if (buf.readUInt32BE(4) !== smpp.commands[command].id) {
			throw new Error(`${command}: wrong command_id`);
		}
		const raw = decodeRaw(buf);
		if (!raw || raw.command !== command) throw new Error(`${command}: node-smpp could not decode its own PDU`);
		// Re-encoding node's raw decode must reproduce the same bytes.
		const again = new smpp.PDU(command, Object.assign({}, raw, {command_status: raw.command_status}));
		const buf2 = again.toBuffer();
		if (!buf2.equals(buf)) {
			throw new Error(`${command}: re-encode mismatch\n${buf.toString('hex')}\n${buf2.toString('hex')}`);
		}
		const filtered = decodeFiltered(buf);

		covered.add(command);
		lines.push('# ' + label);
		lines.push(command + ' ' + buf.toString('hex'));
		jsonl.push(JSON.stringify({
			hex: buf.toString('hex'),
			command: raw.command,
			command_id: raw.command_id,
			command_length: raw.command_length,
			sequence_number: raw.sequence_number,
			command_status: raw.command_status,
			fields: fieldsOf(raw),
			decoded: fieldsOf(filtered),
		}));
	}

	const missing = Object.keys(smpp.commands).filter((c) => !covered.has(c)).sort();
	if (missing.length) throw new Error('commands known to node-smpp without a vector: ' + missing.join(', '));
	lines.push(`# ${vectors.length} vectors, ${covered.size} commands (all commands node-smpp ${smppVersion} knows).`);

	fs.mkdirSync(OUT_DIR, {recursive: true});
	fs.writeFileSync(path.join(OUT_DIR, 'vectors.txt'), lines.join('\n') + '\n');
	fs.writeFileSync(path.join(OUT_DIR, 'decoded.jsonl'), jsonl.join('\n') + '\n');
	process.stdout.write(`wrote ${vectors.length} vectors (${covered.size} commands) to ${path.relative(REPO_ROOT, OUT_DIR)}\n`);
}

main();
