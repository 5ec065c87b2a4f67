// Package config reads vrrpguard's own strict YAML configuration (File,
// LoadYAML, Default), tells it from a keepalived.conf by content (Detect),
// and merges the VRRP segments described by keepalived.conf files (read by
// package config/keepalived) and by the YAML's expect entries into the
// rules engine's expectations, rules.Expected (Expectations).
package config
