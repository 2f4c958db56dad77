// Package alignment has structs in a wasteful order.
package alignment

// Band is a price band.
type Band struct { // want `Band has size 24 but the optimal size is 16.*; reordering saves 8 bytes per value`
	// Open is true while the band takes items.
	Open bool
	// Low is the lowest price.
	Low  int64
	Sale bool // shown in red
}

// Wire is on the wire: its order is the JSON order, so no fix is offered.
type Wire struct { // want `Wire has size 24 .*--fix leaves it alone: its tags put it on the wire`
	Open bool  `json:"open"`
	Low  int64 `json:"low"`
	Sale bool  `json:"sale"`
}

// Tight is in the best order already.
type Tight struct {
	Low  int64
	Open bool
	Sale bool
}
