// Package shop is the order API: handlers over a gorm repository.
package shop

import "time"

// Customer places orders.
type Customer struct {
	CreatedAt time.Time
	Name      string
	ID        uint
}

// Order is one order of a customer.
type Order struct {
	CreatedAt  time.Time
	Customer   *Customer `gorm:"foreignKey:CustomerID"`
	Status     string
	Lines      []Line
	ID         uint
	CustomerID uint
	Total      int64
}

// Line is one product of an order.
type Line struct {
	SKU     string
	ID      uint
	OrderID uint
	Qty     int
}
