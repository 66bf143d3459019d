// The same checks as agreements/identity.py, run as people type: resident ID check digit
// (GB 11643), unified social credit code (GB 32100), phones, e-mail, dates and amounts.
// The server checks again; this only tells people sooner, in their language.

export interface Problem { code: string; zh: string; en: string }

const ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";
const USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

const p = (code: string, zh: string, en: string): Problem => ({ code, zh, en });

export function residentId(value: string, birth?: string): Problem | null {
  const v = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(v)) return p("id_format", "身份证号码应为18位，最后一位可以是数字或X", "A resident ID number has 18 characters; the last may be a digit or X");
  const y = +v.slice(6, 10), m = +v.slice(10, 12), d = +v.slice(12, 14);
  const born = new Date(Date.UTC(y, m - 1, d));
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d) {
    return p("id_birth_date", "身份证号码中的出生日期不存在", "The birth date inside the ID number does not exist");
  }
  if (born.getTime() > Date.now() || y < 1900) return p("id_birth_date", "身份证号码中的出生日期不合理", "The birth date inside the ID number is not plausible");
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += +v[i] * ID_W[i];
  if (ID_CHECK[sum % 11] !== v[17]) return p("id_checksum", "身份证号码校验位不正确，请核对每一位", "The ID number's check digit is wrong; check each digit");
  if (birth && birth !== `${v.slice(6, 10)}-${v.slice(10, 12)}-${v.slice(12, 14)}`) {
    return p("id_birth_mismatch", "出生日期与身份证号码不一致", "The birth date does not match the ID number");
  }
  return null;
}

export function uscc(value: string): Problem | null {
  const v = value.trim().toUpperCase();
  if (v.length !== 18 || [...v].some((c) => !USCC_CHARS.includes(c))) {
    return p("uscc_format", "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）", "A unified social credit code has 18 digits or capital letters (no I, O, Z, S, V)");
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(v[i]) * USCC_W[i];
  if (USCC_CHARS[(31 - (sum % 31)) % 31] !== v[17]) return p("uscc_checksum", "统一社会信用代码校验位不正确，请核对", "The credit code's check character is wrong; check it");
  return null;
}

export function phone(value: string, mobileOnly = false): Problem | null {
  const v = value.replace(/[\s()]/g, "");
  if (/^(?:\+?86)?1[3-9]\d{9}$/.test(v.replace(/-/g, ""))) return null;
  if (mobileOnly) return p("phone_not_mobile", "请填写能接收短信的手机号码（11位，以1开头）", "Give a mobile number that receives SMS (11 digits starting with 1)");
  if (/^(?:\+?86)?0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$/.test(v) || /^\+(?!86)\d{6,15}$/.test(v)) return null;
  return p("phone_format", "电话号码格式不正确：手机号为11位，座机如 021-60000000", "Not a phone number: a mobile has 11 digits; a landline looks like 021-60000000");
}

export function email(value: string): Problem | null {
  return /^[^@\s<>"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$/.test(value.trim()) ? null
    : p("email_format", "电子邮箱格式不正确", "Not an e-mail address");
}

export function pastDate(value: string): Problem | null {
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.getTime() > Date.now() || d.getUTCFullYear() < 1900) {
    return p("date_range", "出生日期不合理", "The birth date is not plausible");
  }
  return null;
}

export function amount(value: string): Problem | null {
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(value.trim().replace(/,/g, ""))) {
    return p("amount_format", "金额请填写数字，最多两位小数，如 1500 或 1500.50", "Give the amount as a number with at most two decimals, e.g. 1500 or 1500.50");
  }
  return null;
}

export function required(value: string): Problem | null {
  return value.trim() ? null : p("required", "此项必填", "Required");
}
