#!/usr/bin/env node
// Scripted SMSC built on node-smpp (npm "smpp"), started by smppkit's Go interop tests.
//
//   node server.js --port 0 [--password secret] [--timeout 60] [--enquire 1]
//
// stdout: one JSON object per line (see README.md for the contract); diagnostics on stderr.
// Exits by itself after --timeout seconds, or on SIGTERM/SIGINT.
'use strict';

const {smpp, parseArgs, emit, rawDecode, jsonValue} = require('./common');


const args = parseArgs(process.argv.slice(2), {port: '0', password: null, timeout: '60', enquire: '0'});
const PORT = Number(args.port);
const TIMEOUT_S = Number(args.timeout);
const ENQUIRE_S = Number(args.enquire);

function log(msg) {
	process.stderr.write(`server: ${msg}\n`);
}

const HEADER = new Set(['command', 'command_length', 'command_id', 'command_status', 'sequence_number']);
function pduEvent(event, pdu, extra) {
	let fields = {};
	try {
		const raw = rawDecode(pdu.raw);
		for (const k of Object.keys(raw)) if (!HEADER.has(k)) fields[k] = jsonValue(raw[k]);
	} catch (e) {
		fields = {decode_error: String(e.message)};
	}
	return Object.assign({event, command: pdu.command, sequence_number: pdu.sequence_number,
		command_status: pdu.command_status}, extra, {fields, hex: pdu.raw.toString('hex')});
}

// node-smpp silently truncates a short_message whose sm_length runs past the PDU; detect that.
function smLengthOverruns(pdu) {
	const params = smpp.commands[pdu.command].params || {};
	let off = 16;
	const raw = rawDecode(pdu.raw);
	for (const key of Object.keys(params)) {
		if (raw[key] === undefined) return true; // body ends before short_message
		if (key === 'short_message') return off >= pdu.raw.length || off + 1 + pdu.raw[off] > pdu.raw.length;
		off += params[key].type.size(raw[key]);
	}
	return false;
}

// Decoded short_message text (node-smpp's own decode), reduced to printable ASCII.
function textOf(pdu) {
	const sm = pdu.short_message;
	let text = sm && typeof sm.message === 'string' ? sm.message : Buffer.isBuffer(sm && sm.message) ? sm.message.toString('latin1') : '';
	return text.replace(/[^\x20-\x7e]/g, '?');
}

// ---- SMSC logic ----------------------------------------------------------------------------
const E = smpp.errors;
const BIND_STATE = {bind_transmitter: 'tx', bind_receiver: 'rx', bind_transceiver: 'trx'};
const CAN_SUBMIT = new Set(['tx', 'trx']);
const CAN_RECEIVE = new Set(['rx', 'trx']);
let msgCounter = 0;
let sessionCounter = 0;
const nextMessageId = () => 'msg' + (++msgCounter).toString(16).padStart(5, '0');

const server = smpp.createServer(function(session) {
	const id = ++sessionCounter;
	let state = 'open';
	let throttled = 0;
	let enquireTimer = null;
	log(`session ${id} connected from ${session.socket.remotePort}`);

	const reply = (pdu, options, then) => session.send(pdu.response(options || {}), then);

	function deliver(options) {
		if (!CAN_RECEIVE.has(state)) return;
		session.deliver_sm(Object.assign({service_type: '', protocol_id: 0, priority_flag: 0,
			registered_delivery: 0, data_coding: 0}, options));
	}

	function afterSubmit(submit, messageId) {
		if (textOf(submit) === 'decimal receipt please') {
			// As carriers do: the submit_sm_resp id in hex (see submit), the
			// receipt text's id in decimal, no receipted_message_id.
			const decimal = parseInt(messageId, 16).toString(10);
			deliver({
				source_addr_ton: submit.dest_addr_ton, source_addr_npi: submit.dest_addr_npi,
				source_addr: submit.destination_addr,
				dest_addr_ton: submit.source_addr_ton, dest_addr_npi: submit.source_addr_npi,
				destination_addr: submit.source_addr, esm_class: 0x04,
				short_message: Buffer.from(`id:${decimal} sub:001 dlvrd:001 submit date:2611221200 ` +
					`done date:2611221201 stat:DELIVRD err:000 text:decimal receipt`, 'ascii'),
			});
			return;
		}
		if (submit.registered_delivery & 1) {
			const receipt = `id:${messageId} sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 ` +
				`stat:DELIVRD err:000 text:${textOf(submit).slice(0, 20)}`;
			deliver({
				source_addr_ton: submit.dest_addr_ton, source_addr_npi: submit.dest_addr_npi,
				source_addr: submit.destination_addr,
				dest_addr_ton: submit.source_addr_ton, dest_addr_npi: submit.source_addr_npi,
				destination_addr: submit.source_addr,
				esm_class: 0x04, short_message: Buffer.from(receipt, 'ascii'),
				receipted_message_id: messageId, message_state: 2,
			});
		}
		if (textOf(submit) === 'MO please') {
			deliver({
				source_addr_ton: submit.dest_addr_ton, source_addr_npi: submit.dest_addr_npi,
				source_addr: submit.destination_addr,
				dest_addr_ton: submit.source_addr_ton, dest_addr_npi: submit.source_addr_npi,
				destination_addr: submit.source_addr,
				esm_class: 0, short_message: Buffer.from('Hello from node', 'ascii'),
			});
		}
	}

	const handlers = {
		bind(pdu) {
			if (state !== 'open') return reply(pdu, {command_status: E.ESME_RALYBND});
			if (args.password !== null && pdu.password !== args.password) {
				emit({event: 'bind_rejected', session: id, system_id: pdu.system_id, command: pdu.command});
				return reply(pdu, {command_status: E.ESME_RBINDFAIL});
			}
			state = BIND_STATE[pdu.command];
			emit({event: 'bound', session: id, system_id: pdu.system_id, command: pdu.command});
			reply(pdu, {system_id: 'nodesmsc', sc_interface_version: 0x50});
			if (ENQUIRE_S > 0) enquireTimer = setInterval(() => session.enquire_link(), ENQUIRE_S * 1000);
		},
		submit_sm(pdu) {
			if (smLengthOverruns(pdu)) return reply(pdu, {command_status: E.ESME_RINVMSGLEN});
			if (pdu.destination_addr === 'reject') return reply(pdu, {command_status: E.ESME_RINVDSTADR});
			if (pdu.destination_addr === 'throttle' && throttled < 2) {
				throttled++;
				return reply(pdu, {command_status: E.ESME_RTHROTTLED});
			}
			// (A hexadecimal id with letters for the decimal-receipt case.)
			const messageId = textOf(pdu) === 'decimal receipt please' ?
				(0x1a2b00 + ++msgCounter).toString(16) : nextMessageId();
			// Receipts/MO go out once the submit_sm_resp has been written, so they always follow it.
			reply(pdu, {message_id: messageId}, () => afterSubmit(pdu, messageId));
		},
		submit_multi(pdu) {
			if (smLengthOverruns(pdu)) return reply(pdu, {command_status: E.ESME_RINVMSGLEN});
			const unsuccess_sme = pdu.dest_address
				.filter((d) => d.destination_addr === '000')
				.map((d) => ({dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi,
					destination_addr: d.destination_addr, error_status_code: E.ESME_RINVDSTADR}));
			reply(pdu, {message_id: nextMessageId(), unsuccess_sme});
		},
		data_sm: (pdu) => reply(pdu, {message_id: nextMessageId()}),
		query_sm: (pdu) => reply(pdu, {message_id: pdu.message_id, final_date: '', message_state: 2, error_code: 0}),
		cancel_sm: (pdu) => reply(pdu),
		replace_sm: (pdu) => reply(pdu),
		broadcast_sm: (pdu) => reply(pdu, {message_id: nextMessageId()}),
		query_broadcast_sm: (pdu) => reply(pdu, {message_id: pdu.message_id, message_state: 2,
			broadcast_area_identifier: [{format: 0, data: 'nodearea'}], broadcast_area_success: 100}),
		cancel_broadcast_sm: (pdu) => reply(pdu),
	};
	const NEEDS_TX = new Set(['submit_sm', 'submit_multi', 'query_sm', 'cancel_sm', 'replace_sm',
		'broadcast_sm', 'query_broadcast_sm', 'cancel_broadcast_sm']);

	session.on('pdu', function(pdu) {
		emit(pduEvent('pdu', pdu, {session: id}));
		if (pdu.isResponse()) return;
		const cmd = pdu.command;
		if (cmd === 'unknown') return reply(pdu); // generic_nack ESME_RINVCMDID
		if (cmd === 'enquire_link') return reply(pdu);
		if (cmd === 'unbind') {
			state = 'unbound';
			return reply(pdu, {}, () => session.close());
		}
		if (cmd in BIND_STATE) return handlers.bind(pdu);
		if (cmd === 'alert_notification') return; // never answered
		if (!(cmd + '_resp' in smpp.commands)) { // outbind from an ESME
			return session.send(new smpp.PDU('generic_nack',
				{sequence_number: pdu.sequence_number, command_status: E.ESME_RINVCMDID}));
		}
		const allowed = cmd === 'data_sm' ? state !== 'open' && state !== 'unbound'
			: NEEDS_TX.has(cmd) && CAN_SUBMIT.has(state);
		if (!allowed || !handlers[cmd]) return reply(pdu, {command_status: E.ESME_RINVBNDSTS});
		handlers[cmd](pdu);
	});

	session.on('error', function(e) {
		// node-smpp stops reading a session after a decode error, so answer and drop it.
		log(`session ${id} error: ${e.message}`);
		emit({event: 'error', session: id, message: String(e.message)});
		// node-smpp throws for command_length > 16384 and for bodies too short for their fields.
		const nack = new smpp.PDU('generic_nack', {sequence_number: 0, command_status: E.ESME_RINVCMDLEN});
		if (!session.send(nack, null, () => session.destroy())) session.destroy();
	});
	session.on('close', function() {
		if (enquireTimer) clearInterval(enquireTimer);
		emit({event: 'closed', session: id});
	});
});

function shutdown(reason, code) {
	emit({event: 'exit', reason});
	for (const s of server.sessions.slice()) s.destroy();
	process.exit(code);
}

server.on('error', function(e) {
	log(`listen error: ${e.message}`);
	emit({event: 'error', message: String(e.message)});
	process.exit(1);
});
server.listen(PORT, '127.0.0.1', function() {
	emit({event: 'listening', port: server.address().port});
});
setTimeout(() => shutdown('timeout', 0), TIMEOUT_S * 1000);
process.on('SIGTERM', () => shutdown('SIGTERM', 0));
process.on('SIGINT', () => shutdown('SIGINT', 0));
