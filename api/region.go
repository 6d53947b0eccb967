package api

// Region is a province, regency/city or district of Jarimu's region table
// (GET /v1/regions).
type Region struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Level      string  `json:"level"`
	ParentCode *string `json:"parent_code"`
	// Label is the name followed by its ancestors' names, most specific
	// first: "Tebet, Kota Administrasi Jakarta Selatan, Daerah Khusus
	// Ibukota Jakarta".
	Label string `json:"label"`
}

// Regions is the answer of a region search.
type Regions struct {
	Items []Region `json:"items"`
}
