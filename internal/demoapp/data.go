package demoapp

// The demo's data is fixed and read-only: every answer is deterministic.

// customerUserID is the user the customer credentials sign in as (Carol).
const customerUserID = 21

type product struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Price string `json:"price"`
	URL   string `json:"url"`
}

type order struct {
	ID       int      `json:"id"`
	Customer int      `json:"customer_id"`
	Items    []string `json:"items"`
	Total    string   `json:"total"`
	Status   string   `json:"status"`
	URL      string   `json:"url"`
}

type ticket struct {
	ID       int    `json:"id"`
	Customer int    `json:"customer_id"`
	Order    int    `json:"order_id"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	URL      string `json:"url"`
}

type user struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

func products() []product {
	return []product{
		{ID: 1, Name: "Desk lamp", Price: "29.90", URL: "/api/products/1"},
		{ID: 2, Name: "Notebook", Price: "4.50", URL: "/api/products/2"},
		{ID: 3, Name: "Coffee mug", Price: "8.00", URL: "/api/products/3"},
	}
}

func orders() []order {
	return []order{
		{ID: 17, Customer: 21, Items: []string{"Desk lamp"}, Total: "29.90", Status: "delivered", URL: "/api/orders/17"},
		{ID: 18, Customer: 22, Items: []string{"Notebook", "Notebook"}, Total: "9.00", Status: "shipped", URL: "/api/orders/18"},
		{ID: 19, Customer: 23, Items: []string{"Coffee mug"}, Total: "8.00", Status: "paid", URL: "/api/orders/19"},
	}
}

func tickets() []ticket {
	return []ticket{
		{ID: 101, Customer: 21, Order: 17, Subject: "Lamp arrived with a broken switch", Status: "open", URL: "/api/tickets/101"},
		{ID: 102, Customer: 22, Order: 18, Subject: "Where is my order?", Status: "waiting", URL: "/api/tickets/102"},
	}
}

func users() []user {
	return []user{
		{ID: 1, Name: "Alex Kim", Email: "alex@acme.example", Role: Admin},
		{ID: 2, Name: "Sam Rivera", Email: "sam@acme.example", Role: Support},
		{ID: 21, Name: "Carol Jones", Email: "carol@customers.example", Role: Customer},
		{ID: 22, Name: "Dave Brown", Email: "dave@customers.example", Role: Customer},
		{ID: 23, Name: "Erin Lee", Email: "erin@customers.example", Role: Customer},
	}
}

// customers returns the users linked from /admin/users/: the customers.
func customers() []user {
	var cs []user
	for _, u := range users() {
		if u.Role == Customer {
			cs = append(cs, u)
		}
	}
	return cs
}

func productByID(id int) product {
	for _, p := range products() {
		if p.ID == id {
			return p
		}
	}
	return product{}
}

func orderByID(id int) order {
	for _, o := range orders() {
		if o.ID == id {
			return o
		}
	}
	return order{}
}

func ticketByID(id int) ticket {
	for _, t := range tickets() {
		if t.ID == id {
			return t
		}
	}
	return ticket{}
}

// userByID returns the customer with id: /admin/users/{id} shows customers.
func userByID(id int) user {
	for _, u := range customers() {
		if u.ID == id {
			return u
		}
	}
	return user{}
}

// userOfRole returns the user a role signs in as; anonymous has none.
func userOfRole(role string) user {
	want := map[string]int{Customer: customerUserID, Support: 2, Admin: 1}[role]
	for _, u := range users() {
		if u.ID == want {
			return u
		}
	}
	return user{}
}
