// Package api holds the gin handlers.
package api

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin" // want: router

	"example.com/gin-boil/models"
)

// Handlers serve the shop.
type Handlers struct {
	DB *sql.DB
}

// GetItem passes gin's context, the request's, on with no deadline.
func (h *Handlers) GetItem(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	it, err := models.FindItem(c, h.DB, id) // want: cache timeouts
	if err != nil {
		c.JSON(http.StatusNotFound, gin.H{"error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, it)
}

// CreateItem inserts an item: a write under a deadline.
func (h *Handlers) CreateItem(c *gin.Context) {
	var in NewItem
	if err := c.ShouldBindJSON(&in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), time.Second)
	defer cancel()
	var id int64
	if err := h.DB.QueryRowContext(ctx, `INSERT INTO items (name, price) VALUES ($1, $2) RETURNING id`, in.Name, in.Price).Scan(&id); err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": id})
}

// PriceItems reprices items one at a time through the generated models.
func (h *Handlers) PriceItems(c *gin.Context) {
	var in PriceChange
	if err := c.ShouldBindJSON(&in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	for _, id := range in.IDs {
		it, err := models.FindItem(ctx, h.DB, id) // want: batch cache
		if err != nil {
			c.JSON(http.StatusNotFound, gin.H{"error": err.Error()})
			return
		}
		it.Price = in.Price
		if _, err := it.Update(ctx, h.DB); err != nil { // want: batch
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
	}
	c.Status(http.StatusNoContent)
}

// Stats counts items per price band; it closes the rows but never
// checks rows.Err, so a broken connection reads as fewer items.
func (h *Handlers) Stats(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), time.Second)
	defer cancel()
	rows, err := h.DB.QueryContext(ctx, "SELECT price / 100, count(*) FROM items GROUP BY 1") // want: cache resources
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	defer rows.Close()
	bands := map[int64]int64{}
	for rows.Next() {
		var band, n int64
		if err := rows.Scan(&band, &n); err != nil {
			break
		}
		bands[band] = n
	}
	c.JSON(http.StatusOK, bands)
}

// Report fills a large report value per request.
func (h *Handlers) Report(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), time.Second)
	defer cancel()
	stmt, err := h.DB.PrepareContext(ctx, "SELECT count(*) FROM items WHERE price > $1") // want: resources
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	rep := &report{} // want: pooling
	for i := range rep.Counts {
		_ = stmt.QueryRowContext(ctx, i*100).Scan(&rep.Counts[i]) // want: batch cache
	}
	c.JSON(http.StatusOK, rep)
}
