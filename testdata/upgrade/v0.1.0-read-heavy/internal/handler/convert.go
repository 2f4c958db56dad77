package handler

import (
	"example.com/legacy-catalog/internal/api"
	"example.com/legacy-catalog/internal/store"
)

func toAPIItem(it store.Item) api.Item {
	return api.Item{
		ID:        api.ItemID(it.ID),
		Name:      it.Name,
		Quantity:  it.Quantity,
		Price:     it.Price,
		UpdatedAt: it.UpdatedAt,
	}
}

func fromAPIInput(in *api.ItemInput) store.ItemInput {
	return store.ItemInput{Name: in.Name, Quantity: in.Quantity, Price: in.Price}
}
