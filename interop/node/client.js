#!/usr/bin/env node
// Scripted ESME built on node-smpp (npm "smpp"), started by smppkit's Go interop tests.
//
//   node client.js --url smpp://user:pass@127.0.0.1:PORT [--mode all|bind-fail|garbage|load|ops]
//                  [--count N] [--timeout 30] [--resp-timeout 5]
//
// stdout: one JSON object per line (see README.md for the contract); diagnostics on stderr.
// Exit status: 0 when the run completed (whatever the results: they are in the "done" line),
// 1 on a crash, 2 on the --timeout hard timeout.
'use strict';

const {smpp, parseArgs, emit, rawDecode, jsonValue} = require('./common');


const args = parseArgs(process.argv.slice(2), {url: 'smpp://127.0.0.1:2775', mode: 'all', count: '100', timeout: '30',
	'resp-timeout': '5'});
const URL_ = new URL(args.url);
const SYSTEM_ID = decodeURIComponent(URL_.username);
const PASSWORD = decodeURIComponent(URL_.password);
const MODE = args.mode;
const COUNT = Number(args.count);
const RESP_TIMEOUT_MS = Number(args['resp-timeout']) * 1000;
const WINDOW = 100;
if (!['all', 'bind-fail', 'garbage', 'load', 'ops'].includes(MODE)) {
	process.stderr.write(`unknown mode: ${MODE}\n`);
	process.exit(64);
}

function log(msg) {
	process.stderr.write(`client: ${msg}\n`);
}
const hex32 = (n) => '0x' + n.toString(16).padStart(8, '0');

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

// ---- run state -----------------------------------------------------------------------------
const errors = [];
const seen = new Map(); // sequence_number -> response PDU (for the garbage mode)
let receipts = 0;
let closed = false;
let unbinding = false;
let dropped = false; // we dropped the connection after a session error
let quiet = false; // load mode: don't print every response
const pending = new Map(); // sequence_number -> function failing that request

function finish(extra, code) {
	const shown = errors.length > 20 ? errors.slice(0, 20).concat([`... ${errors.length - 20} more`]) : errors;
	emit(Object.assign({event: 'done', ok: errors.length === 0}, extra || {}, {errors: shown}));
	process.exit(code || 0);
}
setTimeout(() => {
	errors.push(`hard timeout after ${args.timeout}s`);
	finish({}, 2);
}, Number(args.timeout) * 1000);
process.on('uncaughtException', (e) => {
	log(e.stack);
	errors.push(`crash: ${e.message}`);
	finish({}, 1);
});

const session = smpp.connect({host: URL_.hostname, port: Number(URL_.port) || 2775});

// Send a request; resolves with the response PDU (generic_nack included), or null when no
// response came within RESP_TIMEOUT_MS or the connection closed (recorded in errors).
function call(command, options) {
	return new Promise((resolve) => {
		if (closed) {
			errors.push(`${command}: not sent, connection closed`);
			return resolve(null);
		}
		const pdu = new smpp.PDU(command, options || {});
		const fail = (why) => {
			delete session._callbacks[pdu.sequence_number];
			pending.delete(pdu.sequence_number);
			errors.push(`${command} seq ${pdu.sequence_number}: ${why}`);
			resolve(null);
		};
		let timer = null;
		const sent = session.send(pdu, (resp) => { // assigns pdu.sequence_number
			clearTimeout(timer);
			pending.delete(pdu.sequence_number);
			resolve(resp);
		});
		if (!sent) return fail('not sent, socket not writable');
		timer = setTimeout(() => fail(`no response within ${RESP_TIMEOUT_MS} ms`), RESP_TIMEOUT_MS);
		pending.set(pdu.sequence_number, (why) => {
			clearTimeout(timer);
			fail(why);
		});
	});
}

// Records an error unless resp is `command`_resp with command_status 0.
function expectOk(resp, command) {
	if (!resp) return false;
	if (resp.command !== command + '_resp' || resp.command_status !== 0) {
		errors.push(`${command} seq ${resp.sequence_number}: got ${resp.command} status ${hex32(resp.command_status)}`);
		return false;
	}
	return true;
}

// Resolves once cond() holds, the connection closes, or ms elapse; returns cond().
function until(cond, ms) {
	return new Promise((resolve) => {
		const t0 = Date.now();
		(function poll() {
			if (cond() || closed || Date.now() - t0 >= ms) return resolve(cond());
			setTimeout(poll, 10);
		})();
	});
}

session.on('pdu', function(pdu) {
	if (pdu.isResponse()) {
		seen.set(pdu.sequence_number, pdu);
		if (!quiet) emit(pduEvent('resp', pdu));
		return;
	}
	emit(pduEvent('pdu', pdu));
	// Answer the server's requests.
	switch (pdu.command) {
	case 'deliver_sm':
		if (pdu.esm_class & 0x04) receipts++;
		return session.send(pdu.response({message_id: ''}));
	case 'enquire_link':
	case 'data_sm':
		return session.send(pdu.response());
	case 'unbind':
		unbinding = true;
		return session.send(pdu.response(), () => session.close());
	case 'alert_notification':
		return;
	default: // unknown command ids, and requests an ESME never gets (outbind, submit_sm, ...)
		return session.send(new smpp.PDU('generic_nack',
			{sequence_number: pdu.sequence_number, command_status: smpp.ESME_RINVCMDID}));
	}
});
session.on('error', function(e) {
	// A decode error leaves node-smpp's session unable to read further PDUs: report and drop it.
	log(`session error: ${e.message}`);
	emit({event: 'error', message: String(e.message)});
	errors.push(`session error: ${e.message}`);
	dropped = true;
	session.destroy();
});
session.on('close', function() {
	closed = true;
	if (connected && !unbinding && !dropped) errors.push('connection closed by the server');
	for (const failRequest of pending.values()) failRequest('connection closed before the response');
});

// ---- modes ---------------------------------------------------------------------------------
const bindOptions = {system_id: SYSTEM_ID, password: PASSWORD, system_type: '',
	interface_version: 0x50, addr_ton: 0, addr_npi: 0, address_range: ''};

async function bind(command) {
	const resp = await call(command, Object.assign({}, bindOptions));
	return expectOk(resp, command);
}

async function unbindAndClose() {
	if (closed) return;
	unbinding = true;
	expectOk(await call('unbind'), 'unbind');
	if (!closed) session.close();
	await until(() => closed, 2000);
}

const ME = {source_addr_ton: 1, source_addr_npi: 1, source_addr: '4915100000000'};
const dest = (addr) => ({dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: addr});

async function modeAll() {
	if (!(await bind('bind_transceiver'))) return finish();
	expectOk(await call('enquire_link'), 'enquire_link');

	// Text given as a JS string without data_coding: node-smpp picks data_coding 0x01 itself.
	const first = await call('submit_sm', Object.assign({}, ME, dest('4915100000001'),
		{registered_delivery: 1, short_message: 'Hello from node-smpp'}));
	const firstId = expectOk(first, 'submit_sm') ? first.message_id : null;

	expectOk(await call('submit_sm', Object.assign({}, ME, dest('4915100000002'),
		{data_coding: 8, short_message: 'Привет, мир! Γειά σου κόσμε! 你好，世界'})), 'submit_sm');

	// 400 characters split into 3 parts of at most 153, each with node-smpp's UDH support:
	// short_message {udh, message} makes node-smpp prepend the UDH and set esm_class bit 0x40.
	const longText = 'This long text from node-smpp is sent as a concatenated message in three parts. '
		.repeat(5).slice(0, 400);
	for (let part = 0; part < 3; part++) {
		const udh = Buffer.from([0x05, 0x00, 0x03, 0x42, 3, part + 1]);
		expectOk(await call('submit_sm', Object.assign({}, ME, dest('4915100000003'),
			{data_coding: 0, short_message: {udh, message: longText.slice(part * 153, part * 153 + 153)}})), 'submit_sm');
	}

	expectOk(await call('submit_multi', Object.assign({}, ME, {
		dest_address: [dest('4915100000004'), dest('4915100000005'), {dl_name: 'nodelist'}],
		data_coding: 0, short_message: Buffer.from('Hello to many from node-smpp', 'ascii'),
	})), 'submit_multi');

	expectOk(await call('data_sm', Object.assign({}, ME, dest('4915100000006'),
		{data_coding: 0, message_payload: Buffer.from('Payload from node-smpp via data_sm', 'ascii')})), 'data_sm');

	if (firstId === null) {
		errors.push('no message_id from the first submit_sm: query_sm/replace_sm/cancel_sm skipped');
	} else {
		expectOk(await call('query_sm', Object.assign({message_id: firstId}, ME)), 'query_sm');
		expectOk(await call('replace_sm', Object.assign({message_id: firstId}, ME,
			{short_message: Buffer.from('Replaced by node-smpp', 'ascii')})), 'replace_sm');
		expectOk(await call('cancel_sm', Object.assign({service_type: '', message_id: firstId}, ME,
			dest('4915100000001'))), 'cancel_sm');
	}

	expectOk(await call('broadcast_sm', Object.assign({}, ME, {
		message_id: '', data_coding: 0,
		broadcast_area_identifier: [{format: 0x00, data: 'nodearea'}],
		broadcast_content_type: {network: 1, content_type: 0x0033},
		broadcast_rep_num: 1,
		broadcast_frequency_interval: {unit: 0x09, interval: 5},
		message_payload: Buffer.from('Broadcast from node-smpp', 'ascii'),
	})), 'broadcast_sm');

	// One receipt is expected (only the first submit_sm asked for one); deliver_sm PDUs are
	// answered as they arrive by the 'pdu' handler.
	if (!(await until(() => receipts >= 1, 5000))) errors.push('no delivery receipt within 5 s');
	await unbindAndClose();
	finish();
}

async function modeBindFail() {
	const resp = await call('bind_transceiver', Object.assign({}, bindOptions));
	emit({event: 'bind', command_status: resp ? resp.command_status : null});
	if (resp && resp.command_status === 0) await unbindAndClose();
	finish();
}

function header(length, commandId, seq) {
	const b = Buffer.alloc(16);
	b.writeUInt32BE(length, 0);
	b.writeUInt32BE(commandId, 4);
	b.writeUInt32BE(0, 8);
	b.writeUInt32BE(seq, 12);
	return b;
}

async function modeGarbage() {
	if (!(await bind('bind_transceiver'))) return finish();
	// (a) unknown command_id 0x00000099, header only, seq 100
	const unknown = header(16, 0x00000099, 100);
	// (b) submit_sm, seq 101, whose sm_length (50) runs past the 5 octets actually present;
	//     command_length matches the bytes sent, so framing stays intact.
	const body = Buffer.concat([
		Buffer.from('\0', 'latin1'),                          // service_type
		Buffer.from([1, 1]), Buffer.from('4915100000000\0'),  // source ton, npi, addr
		Buffer.from([1, 1]), Buffer.from('4915100000001\0'),  // dest ton, npi, addr
		Buffer.from([0, 0, 0]),                               // esm_class, protocol_id, priority_flag
		Buffer.from('\0\0'),                                  // schedule_delivery_time, validity_period
		Buffer.from([0, 0, 0, 0]),                            // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
		Buffer.from([50]), Buffer.from('hello'),              // sm_length 50, only 5 octets
	]);
	const badSubmit = Buffer.concat([header(16 + body.length, 0x00000004, 101), body]);
	// (c) a valid enquire_link, seq 102
	const enquire = header(16, 0x00000015, 102);
	for (const [seq, buf] of [[100, unknown], [101, badSubmit], [102, enquire]]) {
		emit({event: 'sent_raw', sequence_number: seq, hex: buf.toString('hex')});
	}
	session.socket.write(Buffer.concat([unknown, badSubmit, enquire]));

	await until(() => seen.has(100) && seen.has(101) && seen.has(102), RESP_TIMEOUT_MS);
	const check = (seq, ok, want) => {
		const r = seen.get(seq);
		if (!r) errors.push(`seq ${seq}: no response (expected ${want})`);
		else if (!ok(r)) errors.push(`seq ${seq}: got ${r.command} status ${hex32(r.command_status)} (expected ${want})`);
	};
	check(100, (r) => r.command === 'generic_nack' && r.command_status === smpp.ESME_RINVCMDID,
		'generic_nack ESME_RINVCMDID');
	check(101, (r) => r.command === 'submit_sm_resp' && r.command_status !== 0, 'submit_sm_resp with an error status');
	check(102, (r) => r.command === 'enquire_link_resp' && r.command_status === 0, 'enquire_link_resp');
	await unbindAndClose();
	finish();
}

async function modeLoad() {
	quiet = true;
	if (!(await bind('bind_transmitter'))) return finish({sent: 0, ok_count: 0, ms: 0});
	let sent = 0, okCount = 0;
	const t0 = Date.now();
	await new Promise((resolve) => {
		let inflight = 0;
		(function pump() {
			while (inflight < WINDOW && sent < COUNT && !closed) {
				const i = sent++;
				inflight++;
				call('submit_sm', Object.assign({}, ME, dest(String(4915200000000 + i)),
					{data_coding: 0, short_message: Buffer.from(`load message ${i}`, 'ascii')}))
					.then((resp) => {
						inflight--;
						if (expectOk(resp, 'submit_sm')) okCount++;
						pump();
					});
			}
			if (inflight === 0) resolve();
		})();
	});
	const ms = Date.now() - t0;
	await unbindAndClose();
	finish({sent, ok_count: okCount, ms});
}

// ops: the message operations against smppd (gateway), each call printed as a "step" line
// {"event":"step","name":...,"command":...,"command_status":...,"fields":{...}}; the Go test
// (ops_test.go) judges the statuses and fields, so this mode records no errors of its own
// beyond missing responses.
async function modeOps() {
	if (!(await bind('bind_transceiver'))) return finish();
	const step = async (name, command, options) => {
		const resp = await call(command, options);
		if (resp) emit(Object.assign(pduEvent('step', resp), {name}));
		return resp;
	};
	const later = '000001000000000R'; // relative: in one hour
	const a = await step('submit', 'submit_sm', Object.assign({}, ME, dest('4915100000001'),
		{registered_delivery: 1, schedule_delivery_time: later, data_coding: 0, short_message: Buffer.from('later')}));
	const id = a && a.message_id;
	await step('query scheduled', 'query_sm', Object.assign({message_id: id}, ME));
	await step('replace', 'replace_sm', Object.assign({message_id: id}, ME,
		{registered_delivery: 1, short_message: Buffer.from('Replaced by node-smpp', 'ascii')}));
	await step('replace unknown', 'replace_sm', Object.assign({message_id: 'fffffffff'}, ME, {short_message: Buffer.from('x')}));
	await step('cancel', 'cancel_sm', Object.assign({service_type: '', message_id: id}, ME, dest('')));
	await step('query cancelled', 'query_sm', Object.assign({message_id: id}, ME));
	await step('cancel again', 'cancel_sm', Object.assign({service_type: '', message_id: id}, ME, dest('')));
	for (const text of ['one', 'two']) {
		await step('submit service', 'submit_sm', Object.assign({service_type: 'NODE'}, ME, dest('4915100000002'),
			{schedule_delivery_time: later, data_coding: 0, short_message: Buffer.from(text)}));
	}
	await step('cancel by service', 'cancel_sm', Object.assign({service_type: 'NODE', message_id: ''}, ME, dest('4915100000002')));
	await step('replace if present 1', 'submit_sm', Object.assign({service_type: 'WX'}, ME, dest('4915100000003'),
		{schedule_delivery_time: later, replace_if_present_flag: 1, data_coding: 0, short_message: Buffer.from('rain')}));
	await step('replace if present 2', 'submit_sm', Object.assign({service_type: 'WX'}, ME, dest('4915100000003'),
		{schedule_delivery_time: later, replace_if_present_flag: 1, data_coding: 0, short_message: Buffer.from('sun')}));
	await step('submit_multi', 'submit_multi', Object.assign({}, ME, {registered_delivery: 1,
		dest_address: [dest('4915100000004'), dest('4915100000005'), {dl_name: 'nodelist'}],
		data_coding: 0, short_message: Buffer.from('Hello to many from node-smpp', 'ascii')}));
	await step('data_sm', 'data_sm', Object.assign({}, ME, dest('4915100000006'),
		{data_coding: 0, message_payload: Buffer.from('Payload from node-smpp via data_sm', 'ascii')}));
	await step('broadcast_sm', 'broadcast_sm', Object.assign({}, ME, {
		message_id: '', data_coding: 0,
		broadcast_area_identifier: [{format: 0x00, data: 'nodearea'}],
		broadcast_content_type: {network: 1, content_type: 0x0033},
		broadcast_rep_num: 1,
		broadcast_frequency_interval: {unit: 0x09, interval: 5},
		message_payload: Buffer.from('Broadcast from node-smpp', 'ascii'),
	}));
	// Receipts: DELETED for the cancelled message, DELIVRD for both submit_multi destinations.
	if (!(await until(() => receipts >= 3, 10000))) errors.push(`${receipts} receipts within 10 s, want 3`);
	await unbindAndClose();
	finish();
}

let connected = false;
session.on('connect', function() {
	connected = true;
	({all: modeAll, 'bind-fail': modeBindFail, garbage: modeGarbage, load: modeLoad, ops: modeOps})[MODE]();
});
session.once('close', function() {
	// Connection refused: no mode ran, so report here.
	if (!connected) finish(MODE === 'load' ? {sent: 0, ok_count: 0, ms: 0} : {});
});
