#!/usr/bin/perl
# A scripted ESME built on Net::SMPP (Debian libnet-smpp-perl), started by
# smppkit's interop tests against smppd.
#
#   perl esme.pl --host 127.0.0.1 --port PORT --system-id ID --password PW
#                [--mode trx|split] [--timeout 30]
#
# It submits a GSM text, a UCS-2 text and a three-part long message (UDH),
# each asking for a receipt (registered_delivery 1); in mode trx on one
# transceiver bind, in mode split on a transmitter bind while a separate
# receiver bind takes the receipts. It answers every deliver_sm, queries the
# first message, unbinds, and prints one JSON object per line on stdout:
#   {"event":"bound","bind":"transceiver"}
#   {"event":"submit_resp","name":"gsm","part":1,"status":0,"message_id":"…"}
#   {"event":"receipt","id":"…","stat":"DELIVRD","text":"…","receipted_message_id":"…","message_state":2}
#   {"event":"query_resp","status":0,"message_id":"…","message_state":2}
#   {"event":"done","submitted":5,"receipts":5}
# Exit status 0 when the run completed, 2 on the hard timeout.
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use Net::SMPP;
use IO::Select;
use POSIX ();

my %o = (host => '127.0.0.1', port => 2775, 'system-id' => 'perl', password => 'pw', mode => 'trx', timeout => 30);
GetOptions(\%o, 'host=s', 'port=i', 'system-id=s', 'password=s', 'mode=s', 'timeout=i') or exit 64;
$| = 1;
my $json = JSON::PP->new->canonical;
sub emit { print $json->encode($_[0]), "\n" }

# Not a deferred ("safe") signal: it must end the script while a read blocks.
POSIX::sigaction(POSIX::SIGALRM, POSIX::SigAction->new(sub { emit({event => 'timeout'}); POSIX::_exit(2) }))
	or die "sigaction: $!";
alarm $o{timeout};

my %common = (port => $o{port}, system_id => $o{'system-id'}, password => $o{password});
my ($tx, $rx);
if ($o{mode} eq 'split') {
	$tx = Net::SMPP->new_transmitter($o{host}, %common) or die "bind_transmitter failed: $!";
	emit({event => 'bound', bind => 'transmitter'});
	$rx = Net::SMPP->new_receiver($o{host}, %common) or die "bind_receiver failed: $!";
	emit({event => 'bound', bind => 'receiver'});
} else {
	$tx = $rx = Net::SMPP->new_transceiver($o{host}, %common) or die "bind_transceiver failed: $!";
	emit({event => 'bound', bind => 'transceiver'});
}
# Bound (synchronously, so nothing is pipelined behind the bind); from now
# on requests go out without waiting, and read_pdu takes the answers.
${*$_}{async} = 1 for ($tx, $rx);

# The messages: GSM (data_coding 0), UCS-2 (8), and a long text in three
# parts with an 8-bit concatenation UDH (esm_class 0x40).
my @parts;
push @parts, {name => 'gsm', part => 1, data_coding => 0, esm_class => 0, sm => 'Hello from Net::SMPP'};
my $ucs2 = "Gr\x{fc}\x{df}e \x{41f}\x{440}\x{438}\x{432}\x{435}\x{442}";
{
	my $bytes = '';
	$bytes .= pack('n', ord($_)) for split //, $ucs2;
	push @parts, {name => 'ucs2', part => 1, data_coding => 8, esm_class => 0, sm => $bytes};
}
my @long = ('A' x 153, 'B' x 153, 'C' x 40);
for my $i (0 .. $#long) {
	my $udh = pack('C6', 5, 0, 3, 0x2a, scalar(@long), $i + 1);
	push @parts, {name => 'long', part => $i + 1, data_coding => 0, esm_class => 0x40, sm => $udh . $long[$i]};
}

my %pending;    # seq → part
for my $p (@parts) {
	my $seq = $tx->submit_sm(
		source_addr_ton => 1, source_addr_npi => 1, source_addr => '4930123456',
		dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '491761234567',
		esm_class => $p->{esm_class}, data_coding => $p->{data_coding},
		registered_delivery => 1, short_message => $p->{sm},
	);
	$pending{$seq} = $p;
}

my @ids;
my %want;      # message ids accepted and still waiting for a receipt
my %early;     # receipts that came (on the receiver bind) before their submit_sm_resp
my $receipts = 0;
my $sel = IO::Select->new();
$sel->add($tx);
$sel->add($rx) if $rx != $tx;

sub handle {
	my ($conn, $pdu) = @_;
	my $cmd = $pdu->{cmd};
	if ($cmd == 0x80000004) {    # submit_sm_resp
		my $p = delete $pending{$pdu->{seq}} or return;
		emit({event => 'submit_resp', name => $p->{name}, part => $p->{part}, status => $pdu->{status}, message_id => $pdu->{message_id}});
		if ($pdu->{status} == 0) {
			push @ids, $pdu->{message_id};
			if (delete $early{$pdu->{message_id}}) { $receipts++ } else { $want{$pdu->{message_id}} = 1 }
		}
	} elsif ($cmd == 0x00000005) {    # deliver_sm
		my $text = $pdu->{short_message} // '';
		my ($id) = $text =~ /id:(\S+)/;
		my ($stat) = $text =~ /stat:(\S+)/;
		my ($t) = $text =~ /text:(.*)$/s;
		my $rid = $pdu->{receipted_message_id} // '';
		$rid =~ s/\0+$//;
		my $state = defined $pdu->{message_state} ? unpack('C', $pdu->{message_state}) : -1;
		emit({event => 'receipt', id => $id // '', stat => $stat // '', text => $t // '', esm_class => $pdu->{esm_class},
			receipted_message_id => $rid, message_state => $state});
		$conn->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
		if (defined $id) {
			if (delete $want{$id}) { $receipts++ } else { $early{$id} = 1 }
		}
	} elsif ($cmd == 0x00000015) {    # enquire_link
		$conn->enquire_link_resp(seq => $pdu->{seq});
	}
}

while (%pending || %want) {
	for my $conn ($sel->can_read(1)) {
		my $pdu = $conn->read_pdu() or die "connection lost: " . (${*$conn}{smpperror} // $!);
		handle($conn, $pdu);
	}
}

# query_sm for the first message, answered from smppd's store.
my $qseq = $tx->query_sm(message_id => $ids[0], source_addr_ton => 1, source_addr_npi => 1, source_addr => '4930123456');
while (1) {
	my $pdu = $tx->read_pdu() or die "connection lost";
	if ($pdu->{cmd} == 0x80000003 && $pdu->{seq} == $qseq) {
		emit({event => 'query_resp', status => $pdu->{status}, message_id => $pdu->{message_id}, message_state => $pdu->{message_state}});
		last;
	}
	handle($tx, $pdu);
}

for my $conn ($rx == $tx ? ($tx) : ($tx, $rx)) {
	my $seq = $conn->unbind();
	while (my $pdu = $conn->read_pdu()) { last if $pdu->{cmd} == 0x80000006 && $pdu->{seq} == $seq }
}
emit({event => 'done', submitted => scalar(@ids), receipts => $receipts});
exit 0;
