#!/usr/bin/perl
# Drives Waymark's EPP server with Debian's libnet-epp-perl (an independent
# client). Each step prints "ok <step>" or dies with the result code.
use strict;
use warnings;
use Net::EPP::Simple;

my ($host, $port, $cert, $key, $certb, $keyb, $ca) = @ARGV;

sub login {
	my ($user, $c, $k) = @_;
	my $epp = Net::EPP::Simple->new(host => $host, port => $port, user => $user, pass => "secret-$user",
		cert => $c, key => $k, verify => 1, ca_file => $ca, timeout => 10, load_config => 0)
		or die "login $user: $Net::EPP::Simple::Code $Net::EPP::Simple::Message $Net::EPP::Simple::Error\n";
	print "ok login $user\n";
	return $epp;
}

sub code { return $Net::EPP::Simple::Code }

sub raw {
	my ($epp, $xml) = @_;
	my $r = $epp->request($xml) or die "raw: no response\n";
	return ($r->getElementsByTagName('result')->shift->getAttribute('code'), $r);
}

my $a = login('reg-a', $cert, $key);

my $avail = $a->check_domain('perl.test');
die "check: " . code() . "\n" unless defined($avail) && $avail == 1;
print "ok check\n";

$a->create_contact({id => 'pl1', postalInfo => {int => {name => 'Perl Monk', org => 'CPAN',
	addr => {street => ['1 Camel St'], city => 'Oslo', sp => '', pc => '0150', cc => 'NO'}}},
	voice => '+47.12345678', fax => '', email => 'monk@example.test', authInfo => 'c0ntact!'})
	or die "create contact: " . code() . " $Net::EPP::Simple::Message\n";
print "ok contact create\n";

$a->create_host({name => 'ns1.perl.test', addrs => [{ip => '192.0.2.53', version => 'v4'}]})
	or die "create host: " . code() . " $Net::EPP::Simple::Message\n";
print "ok host create\n";

$a->create_domain({name => 'perl.test', period => 1, ns => ['ns1.perl.test'], registrant => 'pl1',
	contacts => {admin => 'pl1', tech => 'pl1'}, authInfo => '2fooBAR!'})
	or die "create domain: " . code() . " $Net::EPP::Simple::Message\n";
print "ok domain create\n";

# A DS add needs a raw frame: Net::EPP::Simple has no secDNS update.
my ($c) = raw($a, <<'XML');
<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><update>
<domain:update xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>perl.test</domain:name></domain:update>
</update><extension><secDNS:update xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1"><secDNS:add><secDNS:dsData>
<secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>13</secDNS:alg><secDNS:digestType>2</secDNS:digestType>
<secDNS:digest>E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766</secDNS:digest>
</secDNS:dsData></secDNS:add></secDNS:update></extension><clTRID>perl-ds</clTRID></command></epp>
XML
die "DS update: $c\n" unless $c == 1000;
print "ok ds update\n";

my $info = $a->domain_info('perl.test') or die "info: " . code() . "\n";
my $ds = join(',', @{$info->{DS} || []});
die "info DS = '$ds'\n" unless $ds eq '12345 13 2 E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766';
die "info ns\n" unless $info->{ns}[0] eq 'ns1.perl.test';
print "ok info secdns\n";

my ($exp) = $info->{exDate} =~ /^(\d{4}-\d\d-\d\d)/;
$a->renew_domain({name => 'perl.test', cur_exp_date => $exp, period => 1})
	or die "renew: " . code() . " $Net::EPP::Simple::Message\n";
print "ok renew\n";

my $b = login('reg-b', $certb, $keyb);
$b->domain_transfer_request('perl.test', '2fooBAR!', 1);
die "transfer: " . code() . "\n" unless code() == 1001;
print "ok transfer pending\n";

my ($pc, $pr) = raw($a, '<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><poll op="req"/><clTRID>perl-poll</clTRID></command></epp>');
die "poll: $pc\n" unless $pc == 1301;
my $id = $pr->getElementsByTagName('msgQ')->shift->getAttribute('id');
my ($ac) = raw($a, qq{<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><poll op="ack" msgID="$id"/><clTRID>perl-ack</clTRID></command></epp>});
die "ack: $ac\n" unless $ac == 1000;
print "ok poll\n";

$a->domain_transfer_approve('perl.test') or die "approve: " . code() . "\n";
print "ok transfer approve\n";

$b->logout or die "logout b: " . code() . "\n";
$a->logout or die "logout a: " . code() . "\n";
print "ok logout\n";
