package pdu

import "fmt"

// Status is an SMPP command_status (v5.0 also calls it error_status_code).
// Zero is ESME_ROK. A non-zero Status is a Go error, so a session call can
// return the peer's answer as it is and callers can compare with ==:
//
//	if err == pdu.ESME_RTHROTTLED { … }
type Status uint32

// The command_status values of SMPP v3.4 and v5.0, under their spec names so
// that they can be searched for. Where v5.0 renamed a code, both names exist.
const (
	ESME_ROK                Status = 0x00000000
	ESME_RINVMSGLEN         Status = 0x00000001
	ESME_RINVCMDLEN         Status = 0x00000002
	ESME_RINVCMDID          Status = 0x00000003
	ESME_RINVBNDSTS         Status = 0x00000004
	ESME_RALYBND            Status = 0x00000005
	ESME_RINVPRTFLG         Status = 0x00000006
	ESME_RINVREGDLVFLG      Status = 0x00000007
	ESME_RSYSERR            Status = 0x00000008
	ESME_RINVSRCADR         Status = 0x0000000A
	ESME_RINVDSTADR         Status = 0x0000000B
	ESME_RINVMSGID          Status = 0x0000000C
	ESME_RBINDFAIL          Status = 0x0000000D
	ESME_RINVPASWD          Status = 0x0000000E
	ESME_RINVSYSID          Status = 0x0000000F
	ESME_RCANCELFAIL        Status = 0x00000011
	ESME_RREPLACEFAIL       Status = 0x00000013
	ESME_RMSGQFUL           Status = 0x00000014
	ESME_RINVSERTYP         Status = 0x00000015
	ESME_RINVNUMDESTS       Status = 0x00000033
	ESME_RINVDLNAME         Status = 0x00000034
	ESME_RINVDESTFLAG       Status = 0x00000040
	ESME_RINVSUBREP         Status = 0x00000042
	ESME_RINVESMCLASS       Status = 0x00000043
	ESME_RCNTSUBDL          Status = 0x00000044
	ESME_RSUBMITFAIL        Status = 0x00000045
	ESME_RINVSRCTON         Status = 0x00000048
	ESME_RINVSRCNPI         Status = 0x00000049
	ESME_RINVDSTTON         Status = 0x00000050
	ESME_RINVDSTNPI         Status = 0x00000051
	ESME_RINVSYSTYP         Status = 0x00000053
	ESME_RINVREPFLAG        Status = 0x00000054
	ESME_RINVNUMMSGS        Status = 0x00000055
	ESME_RTHROTTLED         Status = 0x00000058
	ESME_RINVSCHED          Status = 0x00000061
	ESME_RINVEXPIRY         Status = 0x00000062
	ESME_RINVDFTMSGID       Status = 0x00000063
	ESME_RX_T_APPN          Status = 0x00000064
	ESME_RX_P_APPN          Status = 0x00000065
	ESME_RX_R_APPN          Status = 0x00000066
	ESME_RQUERYFAIL         Status = 0x00000067
	ESME_RINVTLVSTREAM      Status = 0x000000C0
	ESME_RTLVNOTALLWD       Status = 0x000000C1
	ESME_RINVTLVLEN         Status = 0x000000C2
	ESME_RMISSINGTLV        Status = 0x000000C3
	ESME_RINVTLVVAL         Status = 0x000000C4
	ESME_RDELIVERYFAILURE   Status = 0x000000FE
	ESME_RUNKNOWNERR        Status = 0x000000FF
	ESME_RSERTYPUNAUTH      Status = 0x00000100
	ESME_RPROHIBITED        Status = 0x00000101
	ESME_RSERTYPUNAVAIL     Status = 0x00000102
	ESME_RSERTYPDENIED      Status = 0x00000103
	ESME_RINVDCS            Status = 0x00000104
	ESME_RINVSRCADDRSUBUNIT Status = 0x00000105
	ESME_RINVDSTADDRSUBUNIT Status = 0x00000106
	ESME_RINVBCASTFREQINT   Status = 0x00000107
	// The next three keep the underscores v5.0 prints inside their suffix.
	ESME_RINVBCASTALIAS_NAME Status = 0x00000108
	ESME_RINVBCASTAREAFMT    Status = 0x00000109
	ESME_RINVNUMBCAST_AREAS  Status = 0x0000010A
	ESME_RINVBCASTCNTTYPE    Status = 0x0000010B
	ESME_RINVBCASTMSGCLASS   Status = 0x0000010C
	ESME_RBCASTFAIL          Status = 0x0000010D
	ESME_RBCASTQUERYFAIL     Status = 0x0000010E
	ESME_RBCASTCANCELFAIL    Status = 0x0000010F
	ESME_RINVBCAST_REP       Status = 0x00000110
	ESME_RINVBCASTSRVGRP     Status = 0x00000111
	ESME_RINVBCASTCHANIND    Status = 0x00000112

	// v3.4 names of the TLV codes that v5.0 renamed.
	ESME_RINVOPTPARSTREAM = ESME_RINVTLVSTREAM
	ESME_ROPTPARNOTALLWD  = ESME_RTLVNOTALLWD
	ESME_RINVPARLEN       = ESME_RINVTLVLEN
	ESME_RMISSINGOPTPARAM = ESME_RMISSINGTLV
	ESME_RINVOPTPARAMVAL  = ESME_RINVTLVVAL
)

type statusInfo struct {
	name, text string
}

var statuses = map[Status]statusInfo{
	ESME_ROK:                 {"ESME_ROK", "no error"},
	ESME_RINVMSGLEN:          {"ESME_RINVMSGLEN", "message length is invalid"},
	ESME_RINVCMDLEN:          {"ESME_RINVCMDLEN", "command length is invalid"},
	ESME_RINVCMDID:           {"ESME_RINVCMDID", "invalid or unsupported command ID"},
	ESME_RINVBNDSTS:          {"ESME_RINVBNDSTS", "command not allowed in the current bind state"},
	ESME_RALYBND:             {"ESME_RALYBND", "already bound"},
	ESME_RINVPRTFLG:          {"ESME_RINVPRTFLG", "invalid priority flag"},
	ESME_RINVREGDLVFLG:       {"ESME_RINVREGDLVFLG", "invalid registered delivery flag"},
	ESME_RSYSERR:             {"ESME_RSYSERR", "system error"},
	ESME_RINVSRCADR:          {"ESME_RINVSRCADR", "invalid source address"},
	ESME_RINVDSTADR:          {"ESME_RINVDSTADR", "invalid destination address"},
	ESME_RINVMSGID:           {"ESME_RINVMSGID", "invalid message ID"},
	ESME_RBINDFAIL:           {"ESME_RBINDFAIL", "bind failed"},
	ESME_RINVPASWD:           {"ESME_RINVPASWD", "invalid password"},
	ESME_RINVSYSID:           {"ESME_RINVSYSID", "invalid system ID"},
	ESME_RCANCELFAIL:         {"ESME_RCANCELFAIL", "cancel_sm failed"},
	ESME_RREPLACEFAIL:        {"ESME_RREPLACEFAIL", "replace_sm failed"},
	ESME_RMSGQFUL:            {"ESME_RMSGQFUL", "message queue full"},
	ESME_RINVSERTYP:          {"ESME_RINVSERTYP", "invalid service type"},
	ESME_RINVNUMDESTS:        {"ESME_RINVNUMDESTS", "invalid number of destinations"},
	ESME_RINVDLNAME:          {"ESME_RINVDLNAME", "invalid distribution list name"},
	ESME_RINVDESTFLAG:        {"ESME_RINVDESTFLAG", "invalid destination flag"},
	ESME_RINVSUBREP:          {"ESME_RINVSUBREP", "invalid submit with replace request"},
	ESME_RINVESMCLASS:        {"ESME_RINVESMCLASS", "invalid esm_class"},
	ESME_RCNTSUBDL:           {"ESME_RCNTSUBDL", "cannot submit to distribution list"},
	ESME_RSUBMITFAIL:         {"ESME_RSUBMITFAIL", "submit failed"},
	ESME_RINVSRCTON:          {"ESME_RINVSRCTON", "invalid source address TON"},
	ESME_RINVSRCNPI:          {"ESME_RINVSRCNPI", "invalid source address NPI"},
	ESME_RINVDSTTON:          {"ESME_RINVDSTTON", "invalid destination address TON"},
	ESME_RINVDSTNPI:          {"ESME_RINVDSTNPI", "invalid destination address NPI"},
	ESME_RINVSYSTYP:          {"ESME_RINVSYSTYP", "invalid system_type"},
	ESME_RINVREPFLAG:         {"ESME_RINVREPFLAG", "invalid replace_if_present flag"},
	ESME_RINVNUMMSGS:         {"ESME_RINVNUMMSGS", "invalid number of messages"},
	ESME_RTHROTTLED:          {"ESME_RTHROTTLED", "throttling error: message rate exceeded"},
	ESME_RINVSCHED:           {"ESME_RINVSCHED", "invalid scheduled delivery time"},
	ESME_RINVEXPIRY:          {"ESME_RINVEXPIRY", "invalid validity period (expiry time)"},
	ESME_RINVDFTMSGID:        {"ESME_RINVDFTMSGID", "predefined message invalid or not found"},
	ESME_RX_T_APPN:           {"ESME_RX_T_APPN", "receiver temporary application error"},
	ESME_RX_P_APPN:           {"ESME_RX_P_APPN", "receiver permanent application error"},
	ESME_RX_R_APPN:           {"ESME_RX_R_APPN", "receiver reject message error"},
	ESME_RQUERYFAIL:          {"ESME_RQUERYFAIL", "query_sm failed"},
	ESME_RINVTLVSTREAM:       {"ESME_RINVTLVSTREAM", "error in the TLV part of the PDU body"},
	ESME_RTLVNOTALLWD:        {"ESME_RTLVNOTALLWD", "TLV not allowed"},
	ESME_RINVTLVLEN:          {"ESME_RINVTLVLEN", "invalid TLV length"},
	ESME_RMISSINGTLV:         {"ESME_RMISSINGTLV", "expected TLV missing"},
	ESME_RINVTLVVAL:          {"ESME_RINVTLVVAL", "invalid TLV value"},
	ESME_RDELIVERYFAILURE:    {"ESME_RDELIVERYFAILURE", "transaction delivery failure"},
	ESME_RUNKNOWNERR:         {"ESME_RUNKNOWNERR", "unknown error"},
	ESME_RSERTYPUNAUTH:       {"ESME_RSERTYPUNAUTH", "ESME not authorised to use this service_type"},
	ESME_RPROHIBITED:         {"ESME_RPROHIBITED", "ESME prohibited from this operation"},
	ESME_RSERTYPUNAVAIL:      {"ESME_RSERTYPUNAVAIL", "service_type unavailable"},
	ESME_RSERTYPDENIED:       {"ESME_RSERTYPDENIED", "service_type denied"},
	ESME_RINVDCS:             {"ESME_RINVDCS", "invalid data coding scheme"},
	ESME_RINVSRCADDRSUBUNIT:  {"ESME_RINVSRCADDRSUBUNIT", "invalid source address subunit"},
	ESME_RINVDSTADDRSUBUNIT:  {"ESME_RINVDSTADDRSUBUNIT", "invalid destination address subunit"},
	ESME_RINVBCASTFREQINT:    {"ESME_RINVBCASTFREQINT", "invalid broadcast frequency interval"},
	ESME_RINVBCASTALIAS_NAME: {"ESME_RINVBCASTALIAS_NAME", "invalid broadcast alias name"},
	ESME_RINVBCASTAREAFMT:    {"ESME_RINVBCASTAREAFMT", "invalid broadcast area format"},
	ESME_RINVNUMBCAST_AREAS:  {"ESME_RINVNUMBCAST_AREAS", "invalid number of broadcast areas"},
	ESME_RINVBCASTCNTTYPE:    {"ESME_RINVBCASTCNTTYPE", "invalid broadcast content type"},
	ESME_RINVBCASTMSGCLASS:   {"ESME_RINVBCASTMSGCLASS", "invalid broadcast message class"},
	ESME_RBCASTFAIL:          {"ESME_RBCASTFAIL", "broadcast_sm failed"},
	ESME_RBCASTQUERYFAIL:     {"ESME_RBCASTQUERYFAIL", "query_broadcast_sm failed"},
	ESME_RBCASTCANCELFAIL:    {"ESME_RBCASTCANCELFAIL", "cancel_broadcast_sm failed"},
	ESME_RINVBCAST_REP:       {"ESME_RINVBCAST_REP", "invalid number of broadcast repetitions"},
	ESME_RINVBCASTSRVGRP:     {"ESME_RINVBCASTSRVGRP", "invalid broadcast service group"},
	ESME_RINVBCASTCHANIND:    {"ESME_RINVBCASTCHANIND", "invalid broadcast channel indicator"},
}

var statusByName = func() map[string]Status {
	m := make(map[string]Status, len(statuses)+5)
	for s, i := range statuses {
		m[i.name] = s
	}
	m["ESME_RINVOPTPARSTREAM"] = ESME_RINVTLVSTREAM
	m["ESME_ROPTPARNOTALLWD"] = ESME_RTLVNOTALLWD
	m["ESME_RINVPARLEN"] = ESME_RINVTLVLEN
	m["ESME_RMISSINGOPTPARAM"] = ESME_RMISSINGTLV
	m["ESME_RINVOPTPARAMVAL"] = ESME_RINVTLVVAL
	return m
}()

// String returns the spec name (ESME_RTHROTTLED), or a hex form for values
// no spec names ("vendor 0x00000400", "0x00000009").
func (s Status) String() string {
	if i, ok := statuses[s]; ok {
		return i.name
	}
	if s >= 0x400 && s <= 0x4FF {
		return fmt.Sprintf("vendor 0x%08X", uint32(s))
	}
	return fmt.Sprintf("0x%08X", uint32(s))
}

// Description says in a few words what the status means.
func (s Status) Description() string {
	if i, ok := statuses[s]; ok {
		return i.text
	}
	if s >= 0x400 && s <= 0x4FF {
		return "vendor-specific error"
	}
	return "reserved error code"
}

// Error makes a Status usable as an error: "ESME_RTHROTTLED (0x00000058): throttling error…".
func (s Status) Error() string {
	return fmt.Sprintf("%s (0x%08X): %s", s.String(), uint32(s), s.Description())
}

// StatusByName finds a status by its v3.4 or v5.0 spec name.
func StatusByName(name string) (Status, bool) {
	s, ok := statusByName[name]
	return s, ok
}
