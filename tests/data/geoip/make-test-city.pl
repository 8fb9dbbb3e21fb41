#!/usr/bin/perl
# Writes test-city.mmdb: a tiny MaxMind City-shaped database of documentation networks, used by
# the unit tests. Regenerate with: perl make-test-city.pl test-city.mmdb
# (Debian package libmaxmind-db-writer-perl).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my %types = (location => 'map', latitude => 'double', longitude => 'double');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'GSLBD-Test-City',
    languages                => ['en'],
    description              => { en => 'gslbd unit test locations' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
# Near Madrid, near Boston (IPv6), near Tokyo.
$tree->insert_network('192.0.2.0/25', { location => { latitude => 40.0, longitude => -3.0 } });
$tree->insert_network('2001:db8:aa::/48',
                      { location => { latitude => 42.0, longitude => -71.0 } });
$tree->insert_network('198.18.0.0/15', { location => { latitude => 35.0, longitude => 139.0 } });
open my $fh, '>:raw', $ARGV[0] or die "cannot write $ARGV[0]: $!";
$tree->write_tree($fh);
close $fh;
