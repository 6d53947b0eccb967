// Indonesia's 38 provinces by Kemendagri code (kept equal to the Go package
// region by web's tests). Regencies are entered by code under a province.
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
  ["31", "DKI Jakarta"],
  ["32", "Jawa Barat"],
  ["33", "Jawa Tengah"],
  ["34", "DI Yogyakarta"],
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

// validRegion checks a code's shape as the server does for the levels the
// console offers: a known province, then optionally a regency (01-69 or
// 71-99).
export function validRegion(code) {
  if (!/^\d{2}(\d{2})?$/.test(code) || !byCode.has(code.slice(0, 2))) return false;
  if (code.length === 2) return true;
  const r = Number(code.slice(2));
  return (r >= 1 && r <= 69) || (r >= 71 && r <= 99);
}

// covers reports whether region a contains region b ("" is national).
export function covers(a, b) { return !a || (b || '').startsWith(a); }
