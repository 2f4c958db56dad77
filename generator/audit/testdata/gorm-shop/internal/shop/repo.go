package shop

import (
	"context"

	"gorm.io/gorm"
)

// Repo reads and writes orders.
type Repo struct {
	db *gorm.DB
}

// NewRepo returns the repository over db.
func NewRepo(db *gorm.DB) *Repo { return &Repo{db: db} }

// DB is the session of one request.
func (r *Repo) DB(ctx context.Context) *gorm.DB { return r.db.WithContext(ctx) }

// Recent lists the latest orders with their customers, one query for
// the customers (Preload), not one an order.
func (r *Repo) Recent(ctx context.Context, limit int) ([]Order, error) {
	var out []Order
	err := r.DB(ctx).Preload("Customer").Order("created_at DESC").Limit(limit).Find(&out).Error
	return out, err
}

// RecentSlow lists the latest orders and then fetches each one's customer
// and lines: the N+1 of a list endpoint.
func (r *Repo) RecentSlow(ctx context.Context, limit int) ([]Order, error) {
	var out []Order
	if err := r.DB(ctx).Order("created_at DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, err
	}
	for i := range out {
		var c Customer
		if err := r.DB(ctx).First(&c, out[i].CustomerID).Error; err != nil { // want: batch
			return nil, err
		}
		out[i].Customer = &c
		if err := r.DB(ctx).Where("order_id = ?", out[i].ID).Find(&out[i].Lines).Error; err != nil { // want: batch
			return nil, err
		}
	}
	return out, nil
}

// SaveLines writes the lines of an order one statement each.
func (r *Repo) SaveLines(ctx context.Context, lines []Line) error {
	for _, l := range lines {
		if err := r.DB(ctx).Create(&l).Error; err != nil { // want: batch
			return err
		}
	}
	return nil
}

// MarkShipped updates each order by itself, through a helper.
func (r *Repo) MarkShipped(ctx context.Context, ids []uint) error {
	for _, id := range ids {
		if err := r.setStatus(ctx, id, "shipped"); err != nil { // want: batch
			return err
		}
	}
	return nil
}

func (r *Repo) setStatus(ctx context.Context, id uint, status string) error {
	return r.DB(ctx).Model(&Order{}).Where("id = ?", id).Update("status", status).Error
}

// SaveAll stores the orders in one statement (CreateInBatches): no loop.
func (r *Repo) SaveAll(ctx context.Context, orders []Order) error {
	return r.DB(ctx).CreateInBatches(orders, 100).Error
}

// Totals sums the orders of each customer in one query.
func (r *Repo) Totals(ctx context.Context, ids []uint) (map[uint]int64, error) {
	type row struct {
		CustomerID uint
		Sum        int64
	}
	var rows []row
	err := r.DB(ctx).Model(&Order{}).Select("customer_id, sum(total) AS sum").Where("customer_id IN ?", ids).Group("customer_id").Scan(&rows).Error
	out := make(map[uint]int64, len(rows))
	for _, x := range rows {
		out[x.CustomerID] = x.Sum
	}
	return out, err
}
