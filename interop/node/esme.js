#!/usr/bin/env node
// Interactive ESME built on node-smpp (npm "smpp"), driven line by line by a Go test
// (interop/smsgate): it reads one JSON command per line on stdin and prints one JSON event per
// line on stdout (the pdu format of README.md); diagnostics on stderr.
//
//   node esme.js [--timeout 300]
//
// Commands:
//   {"op":"connect","tag":T,"url":"smpp://user:pass@127.0.0.1:PORT","bind":"bind_transceiver"}
//       → {"event":"bind","tag":T,"command_status":N}  or {"event":"connect_error","tag":T,"message":…}
//   {"op":"send","tag":T,"command":"submit_sm","fields":{…}}   (a field "x_hex" is sent as field
//       "x", the octets of that hex; every other field as given)
//       → {"event":"resp","tag":T,…pdu format…}  or {"event":"send_error","tag":T,"message":…}
//   {"op":"close","tag":T}  → unbind, close → {"event":"closed","tag":T}
// Requests from the server are printed as {"event":"pdu",…} and answered at once (deliver_sm
// with deliver_sm_resp, enquire_link with enquire_link_resp). A connection that ends prints
// {"event":"closed"}. The program exits on end of stdin or after --timeout seconds.
'use strict';

const {smpp, parseArgs, emit, rawDecode, jsonValue} = require('./common');
const readline = require('readline');

let timeoutS = 300;
for (let i = 2; i < process.argv.length; i++) {
	if (process.argv[i] === '--timeout') timeoutS = Number(process.argv[++i]);
	else {
		process.stderr.write(`unknown argument: ${process.argv[i]}\n`);
		process.exit(64);
	}
}
setTimeout(() => {
	emit({event: 'exit', reason: 'timeout'});
	process.exit(2);
}, timeoutS * 1000);


const HEADER = new Set(['command', 'command_length', 'command_id', 'command_status', 'sequence_number']);
function pduEvent(event, pdu, tag) {
	let fields = {};
	try {
		const raw = rawDecode(pdu.raw);
		for (const k of Object.keys(raw)) if (!HEADER.has(k)) fields[k] = jsonValue(raw[k]);
	} catch (e) {
		fields = {decode_error: String(e.message)};
	}
	const ev = {event, command: pdu.command, sequence_number: pdu.sequence_number,
		command_status: pdu.command_status, fields, hex: pdu.raw.toString('hex')};
	if (tag !== undefined) ev.tag = tag;
	return ev;
}

let session = null;

function connect(cmd) {
	if (session) {
		try { session.destroy(); } catch (e) { /* already closed */ }
	}
	const u = new URL(cmd.url);
	const s = smpp.connect({host: u.hostname, port: Number(u.port) || 2775});
	session = s;
	let connected = false;
	s.on('connect', () => {
		connected = true;
		s.send(new smpp.PDU(cmd.bind || 'bind_transceiver', {system_id: decodeURIComponent(u.username),
			password: decodeURIComponent(u.password), system_type: '', interface_version: 0x34,
			addr_ton: 0, addr_npi: 0, address_range: ''}), (resp) => {
			emit({event: 'bind', tag: cmd.tag, command_status: resp.command_status});
		});
	});
	s.on('pdu', (pdu) => {
		if (pdu.isResponse()) return; // answered through the callbacks
		emit(pduEvent('pdu', pdu));
		switch (pdu.command) {
		case 'deliver_sm':
			return s.send(pdu.response({message_id: ''}));
		case 'enquire_link':
			return s.send(pdu.response());
		case 'unbind':
			return s.send(pdu.response(), () => s.close());
		default:
			return s.send(new smpp.PDU('generic_nack',
				{sequence_number: pdu.sequence_number, command_status: smpp.ESME_RINVCMDID}));
		}
	});
	s.on('error', (e) => {
		if (!connected) emit({event: 'connect_error', tag: cmd.tag, message: String(e.message)});
		else emit({event: 'error', message: String(e.message)});
	});
	s.on('close', () => {
		if (session === s) session = null;
		if (connected) emit({event: 'closed'});
	});
}

function send(cmd) {
	if (!session) return emit({event: 'send_error', tag: cmd.tag, message: 'not connected'});
	const fields = {};
	for (const [k, v] of Object.entries(cmd.fields || {})) {
		if (k.endsWith('_hex')) fields[k.slice(0, -4)] = Buffer.from(v, 'hex');
		else fields[k] = v;
	}
	let pdu;
	try {
		pdu = new smpp.PDU(cmd.command, fields);
	} catch (e) {
		return emit({event: 'send_error', tag: cmd.tag, message: String(e.message)});
	}
	const ok = session.send(pdu, (resp) => emit(pduEvent('resp', resp, cmd.tag)));
	if (!ok) emit({event: 'send_error', tag: cmd.tag, message: 'socket not writable'});
}

function close(cmd) {
	const s = session;
	if (!s) return emit({event: 'closed', tag: cmd.tag});
	s.send(new smpp.PDU('unbind', {}), () => {
		s.close();
		emit({event: 'closed', tag: cmd.tag});
	});
}

const rl = readline.createInterface({input: process.stdin});
rl.on('line', (line) => {
	if (!line.trim()) return;
	let cmd;
	try {
		cmd = JSON.parse(line);
	} catch (e) {
		return emit({event: 'bad_command', message: String(e.message)});
	}
	({connect, send, close})[cmd.op] ? ({connect, send, close})[cmd.op](cmd) :
		emit({event: 'bad_command', tag: cmd.tag, message: `unknown op ${cmd.op}`});
});
rl.on('close', () => {
	emit({event: 'exit', reason: 'stdin closed'});
	process.exit(0);
});
