package api

// NewItem is the body of POST /items. Its field order is its JSON key
// order on the wire, so --fix leaves it alone.
type NewItem struct { // want: alignment
	Featured bool   `json:"featured"`
	Price    int64  `json:"price" binding:"required"`
	Hidden   bool   `json:"hidden"`
	Name     string `json:"name" binding:"required"`
}

// PriceChange is the body of POST /items/prices.
type PriceChange struct {
	IDs   []int64 `json:"ids" binding:"required"`
	Price int64   `json:"price"`
}

// report is built per request; 32 counters make it 256 bytes.
type report struct {
	Counts [32]int64 `json:"counts"`
}

// band is a price band kept in memory.
type band struct { // want: alignment
	// open is true while the band takes new items.
	open bool
	// low is the lowest price in the band.
	low int64
	// sale marks a discounted band.
	sale bool // shown in red
}

var _ = band{}
