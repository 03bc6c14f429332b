#!/usr/bin/env node
// Scripted ESME built on node-smpp (npm "smpp") for the end-to-end tests of the smppd daemon
// (interop/smppd). It binds, submits the messages it is given, answers every deliver_sm, waits
// for the receipts and MO messages it is told to expect, optionally queries what it sent, and
// unbinds.
//
//   node smppd_esme.js --url smpp://user:pass@127.0.0.1:PORT --bind trx|tx|rx
//                      [--messages JSON] [--receipts N] [--notifications N] [--mo N] [--query 0|1]
//                      [--query-final 0|1] [--timeout 20] [--wait 10]
//
// --messages is a JSON array of {to, text, coding: "gsm"|"ucs2", parts: N, rd: registered_delivery}:
// a message with parts > 1 is cut into N submit_sm with an 8-bit-reference concatenation UDH
// (esm_class 0x40); coding "gsm" sends the text as data_coding 0 octets (ASCII-safe texts only),
// "ucs2" as data_coding 8, UTF-16BE.
// --query 1: after the receipts, query_sm every message id once. --query-final 1: right after
// the submits, query_sm each id until its message_state is final (for a receiver binding later).
//
// stdout: one JSON object per line:
//   {"event":"bound","command_status":N}
//   {"event":"submitted","index":I,"part":P,"command_status":N,"message_id":"..."}
//   {"event":"pdu","command":"deliver_sm",...fields...}      (every request received, as client.js)
//   {"event":"resp","command":"submit_sm_resp",...}           (every response but the bind's)
//   {"event":"done","ok":true|false,"errors":[...]}
// Exit status: 0 when the run completed (results in "done"), 1 on a crash, 2 on the --timeout.
'use strict';

const {smpp, parseArgs, emit, rawDecode, jsonValue} = require('./common');


const args = parseArgs(process.argv.slice(2), {url: 'smpp://127.0.0.1:2775', bind: 'trx', messages: '[]',
	receipts: '0', notifications: '0', mo: '0', query: '0', 'query-final': '0', timeout: '20', wait: '10'});
const URL_ = new URL(args.url);
const BIND = {trx: 'bind_transceiver', tx: 'bind_transmitter', rx: 'bind_receiver'}[args.bind];
if (!BIND) {
	process.stderr.write(`unknown bind: ${args.bind}\n`);
	process.exit(64);
}
const MESSAGES = JSON.parse(args.messages);
const WANT_RECEIPTS = Number(args.receipts);
const WANT_MO = Number(args.mo);
const WANT_NOTES = Number(args.notifications);
const WAIT_MS = Number(args.wait) * 1000;


const HEADER = new Set(['command', 'command_length', 'command_id', 'command_status', 'sequence_number']);
function pduEvent(event, pdu) {
	let fields = {};
	try {
		const raw = rawDecode(pdu.raw);
		for (const k of Object.keys(raw)) if (!HEADER.has(k)) fields[k] = jsonValue(raw[k]);
	} catch (e) {
		fields = {decode_error: String(e.message)};
	}
	return {event, command: pdu.command, sequence_number: pdu.sequence_number,
		command_status: pdu.command_status, fields, hex: pdu.raw.toString('hex')};
}

const errors = [];
let receipts = 0, notes = 0, mos = 0, closed = false, unbinding = false, connected = false;

function finish(code) {
	emit({event: 'done', ok: errors.length === 0, receipts, notifications: notes, mo: mos, errors});
	process.exit(code || 0);
}
setTimeout(() => {
	errors.push(`hard timeout after ${args.timeout}s`);
	finish(2);
}, Number(args.timeout) * 1000).unref();
process.on('uncaughtException', (e) => {
	process.stderr.write(`smppd_esme: ${e.stack}\n`);
	errors.push(`crash: ${e.message}`);
	finish(1);
});

const session = smpp.connect({host: URL_.hostname, port: Number(URL_.port) || 2775});

// call sends a request and resolves with its response, or null (recorded in errors) when
// none came within 5 s or the connection closed.
function call(command, options) {
	return new Promise((resolve) => {
		if (closed) {
			errors.push(`${command}: not sent, connection closed`);
			return resolve(null);
		}
		const pdu = new smpp.PDU(command, options || {});
		let timer = null;
		session.send(pdu, (resp) => {
			clearTimeout(timer);
			resolve(resp);
		});
		timer = setTimeout(() => {
			errors.push(`${command} seq ${pdu.sequence_number}: no response within 5 s`);
			resolve(null);
		}, 5000);
	});
}

// until resolves once cond() holds, the connection closes, or ms pass; it returns cond().
// (Events arrive on the socket; the poll only looks at counters they set.)
function until(cond, ms) {
	return new Promise((resolve) => {
		const t0 = Date.now();
		(function poll() {
			if (cond() || closed || Date.now() - t0 >= ms) return resolve(cond());
			setTimeout(poll, 5);
		})();
	});
}

session.on('pdu', function(pdu) {
	if (pdu.isResponse()) {
		// In the order they came off the wire, with the requests below.
		if (pdu.command !== 'bind_transceiver_resp' && pdu.command !== 'bind_transmitter_resp' &&
			pdu.command !== 'bind_receiver_resp') emit(pduEvent('resp', pdu));
		return;
	}
	emit(pduEvent('pdu', pdu));
	switch (pdu.command) {
	case 'deliver_sm':
		// esm_class message type (bits 2-5): 0x04 receipt, 0x20 intermediate notification.
		if ((pdu.esm_class & 0x3c) === 0x04) receipts++;
		else if ((pdu.esm_class & 0x3c) === 0x20) notes++;
		else mos++;
		return session.send(pdu.response({message_id: ''}));
	case 'enquire_link':
		return session.send(pdu.response());
	case 'unbind':
		unbinding = true;
		return session.send(pdu.response(), () => session.close());
	default:
		return session.send(new smpp.PDU('generic_nack',
			{sequence_number: pdu.sequence_number, command_status: smpp.ESME_RINVCMDID}));
	}
});
session.on('error', function(e) {
	emit({event: 'error', message: String(e.message)});
	errors.push(`session error: ${e.message}`);
	session.destroy();
});
session.on('close', function() {
	closed = true;
	if (connected && !unbinding) errors.push('connection closed by smppd');
});

function ucs2(text) {
	return Buffer.from(text, 'utf16le').swap16();
}

// The submit_sm PDUs of one message.
function submits(m, index) {
	const body = m.coding === 'ucs2' ? ucs2(m.text) : Buffer.from(m.text, 'latin1');
	const common = {source_addr_ton: 1, source_addr_npi: 1, source_addr: m.from || '4915100000000',
		dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: m.to,
		registered_delivery: m.rd === undefined ? 1 : m.rd, data_coding: m.coding === 'ucs2' ? 8 : 0};
	const parts = m.parts || 1;
	if (parts === 1) return [Object.assign({}, common, {short_message: body})];
	// Cut on even octet counts so a UCS-2 character is never split.
	let size = Math.ceil(body.length / parts);
	if (m.coding === 'ucs2' && size % 2) size++;
	const out = [];
	for (let p = 0; p < parts; p++) {
		const udh = Buffer.from([0x05, 0x00, 0x03, (0x30 + index) & 0xff, parts, p + 1]);
		out.push(Object.assign({}, common, {esm_class: 0x40,
			short_message: Buffer.concat([udh, body.subarray(p * size, (p + 1) * size)])}));
	}
	return out;
}

async function run() {
	const b = await call(BIND, {system_id: decodeURIComponent(URL_.username),
		password: decodeURIComponent(URL_.password), system_type: '', interface_version: 0x34,
		addr_ton: 0, addr_npi: 0, address_range: ''});
	emit({event: 'bound', command: BIND, command_status: b ? b.command_status : null,
		system_id: b ? b.system_id : null});
	if (!b || b.command_status !== 0) {
		errors.push(`${BIND}: status ${b ? b.command_status : 'none'}`);
		return finish();
	}
	const ids = [];
	for (let i = 0; i < MESSAGES.length; i++) {
		const pdus = submits(MESSAGES[i], i);
		for (let p = 0; p < pdus.length; p++) {
			const r = await call('submit_sm', pdus[p]);
			emit({event: 'submitted', index: i, part: p + 1, parts: pdus.length,
				command_status: r ? r.command_status : null, message_id: r ? r.message_id : null});
			if (r && r.command_status === 0) ids.push(r.message_id);
			else errors.push(`submit_sm ${i}/${p + 1}: status ${r ? r.command_status : 'none'}`);
		}
	}
	if (args['query-final'] === '1') {
		// Until the message is final (DELIVERED, EXPIRED, DELETED, UNDELIVERABLE, REJECTED,
		// SKIPPED): the simulator delivers at once, so this takes a round or two.
		for (const id of ids) {
			for (let round = 0; ; round++) {
				const q = await call('query_sm', {message_id: id, source_addr_ton: 1, source_addr_npi: 1,
					source_addr: MESSAGES[0].from || '4915100000000'});
				if (!q) break;
				if (q.command_status !== 0 || [2, 3, 4, 5, 8, 9].includes(q.message_state) || round >= 200) {
					break;
				}
				await new Promise((r) => setTimeout(r, 10));
			}
		}
	}
	if (!(await until(() => receipts >= WANT_RECEIPTS && notes >= WANT_NOTES && mos >= WANT_MO, WAIT_MS))) {
		errors.push(`got ${receipts} of ${WANT_RECEIPTS} receipts, ${notes} of ${WANT_NOTES} intermediate notifications ` +
			`and ${mos} of ${WANT_MO} MO messages in ${WAIT_MS} ms`);
	}
	if (args.query === '1') {
		for (const id of ids) {
			const q = await call('query_sm', {message_id: id, source_addr_ton: 1, source_addr_npi: 1,
				source_addr: MESSAGES[0].from || '4915100000000'});
			void q; // printed by the 'pdu' handler
		}
	}
	unbinding = true;
	const u = await call('unbind');
	if (!u || u.command_status !== 0) errors.push('unbind not answered with status 0');
	if (!closed) session.close();
	await until(() => closed, 2000);
	finish();
}

session.on('connect', function() {
	connected = true;
	run();
});
session.once('close', function() {
	if (!connected) {
		errors.push('connection refused');
		finish();
	}
});
