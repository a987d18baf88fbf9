//go:build race

package nahook_test

// raceDetector reports that the tests run under -race, where the store's
// work is several times slower: the longest property tests try fewer
// seeds there, and the plain run tries them all.
const raceDetector = true
