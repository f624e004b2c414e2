//go:build !purego

package model_test

// puregoBuild reports a build without assembly.
const puregoBuild = false
