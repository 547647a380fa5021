package config

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Password hashes in clients.toml have the form
//
//	pbkdf2-sha256$<iterations>$<salt, base64 raw std>$<key, base64 raw std>
//
// with a 16-byte random salt and a 32-byte key. The string is part of the
// format: clients.toml files outlive releases.
const (
	hashScheme = "pbkdf2-sha256"
	// DefaultHashIterations is the work factor of new hashes. It is written
	// into each hash, so raising it later does not invalidate old ones.
	// 100,000 rounds cost a few tens of milliseconds per BIND, which a
	// listener pays once per connection.
	DefaultHashIterations = 100_000
	saltLen               = 16
	keyLen                = 32
	maxHashIterations     = 10_000_000
)

// ErrBadHash is returned for a password hash that is not of the form
// HashPassword writes, typically a plain-text password put in clients.toml.
var ErrBadHash = errors.New("not a password hash made by m1passwd (pbkdf2-sha256$iterations$salt$key)")

// HashPassword returns a salted hash of password for clients.toml.
func HashPassword(password string) (string, error) {
	return HashPasswordIter(password, DefaultHashIterations)
}

// HashPasswordIter is HashPassword with a chosen work factor (tests use a
// small one).
func HashPasswordIter(password string, iterations int) (string, error) {
	if iterations < 1 || iterations > maxHashIterations {
		return "", fmt.Errorf("hash iterations %d out of range 1..%d", iterations, maxHashIterations)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, keyLen)
	if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

type parsedHash struct {
	iter      int
	salt, key []byte
}

func parseHash(encoded string) (parsedHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return parsedHash{}, ErrBadHash
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxHashIterations {
		return parsedHash{}, ErrBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[2])
	if err != nil || len(salt) < 8 {
		return parsedHash{}, ErrBadHash
	}
	key, err := enc.DecodeString(parts[3])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return parsedHash{}, ErrBadHash
	}
	return parsedHash{iter: iter, salt: salt, key: key}, nil
}

// ValidateHash reports whether encoded is a hash CheckPassword can use.
func ValidateHash(encoded string) error {
	_, err := parseHash(encoded)
	return err
}

// CheckPassword reports whether password matches the hash. The comparison
// takes the same time wherever the two differ. A malformed hash matches no
// password.
func CheckPassword(encoded, password string) bool {
	h, err := parseHash(encoded)
	if err != nil {
		return false
	}
	key, err := pbkdf2.Key(sha256.New, password, h.salt, h.iter, len(h.key))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
