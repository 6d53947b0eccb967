// Indonesia's 38 provinces by Kemendagri code and name (kept equal to the
// Go package region's table by web's tests), embedded so that a province
// can be chosen offline. Regencies/cities and districts are searched by
// name on the server (GET /v1/regions), by the region picker in views/parts.js.
export const PROVINCES = [
  ["11", "Aceh"],
  ["12", "Sumatera Utara"],
  ["13", "Sumatera Barat"],
  ["14", "Riau"],
  ["15", "Jambi"],
  ["16", "Sumatera Selatan"],
  ["17", "Bengkulu"],
  ["18", "Lampung"],
  ["19", "Kepulauan Bangka Belitung"],
  ["21", "Kepulauan Riau"],
  ["31", "Daerah Khusus Ibukota Jakarta"],
  ["32", "Jawa Barat"],
  ["33", "Jawa Tengah"],
  ["34", "Daerah Istimewa Yogyakarta"],
  ["35", "Jawa Timur"],
  ["36", "Banten"],
  ["51", "Bali"],
  ["52", "Nusa Tenggara Barat"],
  ["53", "Nusa Tenggara Timur"],
  ["61", "Kalimantan Barat"],
  ["62", "Kalimantan Tengah"],
  ["63", "Kalimantan Selatan"],
  ["64", "Kalimantan Timur"],
  ["65", "Kalimantan Utara"],
  ["71", "Sulawesi Utara"],
  ["72", "Sulawesi Tengah"],
  ["73", "Sulawesi Selatan"],
  ["74", "Sulawesi Tenggara"],
  ["75", "Gorontalo"],
  ["76", "Sulawesi Barat"],
  ["81", "Maluku"],
  ["82", "Maluku Utara"],
  ["91", "Papua"],
  ["92", "Papua Barat"],
  ["93", "Papua Selatan"],
  ["94", "Papua Tengah"],
  ["95", "Papua Pegunungan"],
  ["96", "Papua Barat Daya"],
];

const byCode = new Map(PROVINCES);

// provinceName is the name of a 2-digit province code, or "".
export function provinceName(code) { return byCode.get(code) || ''; }

// covers reports whether region a contains region b ("" is national).
export function covers(a, b) { return !a || (b || '').startsWith(a); }
