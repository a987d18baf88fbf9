//go:build !race

package nahook_test

// raceDetector reports that the tests run under -race; see race_on_test.go.
const raceDetector = false
