package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword returns the bcrypt hash of pw, for an account's
// password_hash.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPassword reports whether pw is the account's password. A plain
// password is compared in constant time (of hashes, so not even its length
// leaks).
func (a *Account) CheckPassword(pw string) bool {
	if a.PasswordHash != "" {
		return bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(pw)) == nil
	}
	if a.Password == "" {
		return false
	}
	x, y := sha256.Sum256([]byte(a.Password)), sha256.Sum256([]byte(pw))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// Allows reports whether the account may make a bind of this type
// (transmitter, receiver or transceiver).
func (a *Account) Allows(bindType string) bool {
	return slices.Contains(a.BindTypes, bindType)
}

// AllowedFrom reports whether the account may bind from addr.
func (a *Account) AllowedFrom(addr netip.Addr) bool {
	if len(a.AllowCIDRs) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, c := range a.AllowCIDRs {
		if p, err := parsePrefix(c); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}

// Owns reports whether addr is one of the account's Addresses (for MO
// routing).
func (a *Account) Owns(addr string) bool {
	for _, p := range a.Addresses {
		if MatchAddress(p, addr) {
			return true
		}
	}
	return false
}

// MaySendFrom reports whether the account may submit with source address
// src.
func (a *Account) MaySendFrom(src string) bool {
	if len(a.SourceAddresses) == 0 {
		return true
	}
	for _, p := range a.SourceAddresses {
		if MatchAddress(p, src) {
			return true
		}
	}
	return false
}

// MatchAddress reports whether addr matches pattern: exact, or by prefix
// when pattern ends in *. A leading + on either is ignored.
func MatchAddress(pattern, addr string) bool {
	pattern = strings.TrimPrefix(pattern, "+")
	addr = strings.TrimPrefix(addr, "+")
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(addr, p)
	}
	return pattern == addr
}

// parsePrefix reads a CIDR, or a single address as a prefix of its full
// length.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}
