// The age (C2SP age v1) encryption, scrypt and bech32 the members' page needs, from
// typage (age-encryption, BSD-3-Clause), @noble/hashes (MIT) and @scure/base (MIT).
import { Encrypter, identityToRecipient } from "age-encryption";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { bech32 } from "@scure/base";
globalThis.ageKit = { Encrypter, identityToRecipient, scryptAsync, bech32 };
