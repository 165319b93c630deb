/* The card profile's command set and file layout (docs/card-profile.md), in one
 * place.  Every APDU the card layer sends is built from these constants. */
#ifndef P11U_CARD_PROFILE_H
#define P11U_CARD_PROFILE_H

/* Class bytes.  Every command uses CLA 0x80; chained segments but the last have the
 * chaining bit (0x90); GET RESPONSE is the only ISO-class command. */
#define P11U_CLA              0x80
#define P11U_CLA_CHAINING_BIT 0x10
#define P11U_CLA_GET_RESPONSE 0x00

/* Instructions. */
#define P11U_INS_SELECT        0xA4 /* 80 A4 00 00 02 <FID>, no Le */
#define P11U_INS_READ_BINARY   0xB0 /* 80 B0 <off-hi> <off-lo> <Le> */
#define P11U_INS_VERIFY        0x20 /* 80 20 00 <ref> [Lc secret] */
#define P11U_INS_CHANGE_REF    0x24 /* 80 24 00 01 len old || old || len new || new */
#define P11U_INS_RESET_COUNTER 0x2C /* 80 2C 00 01 len code || code || len new || new */
#define P11U_INS_MSE           0x22 /* 80 22 41 B6|B8  84 01 <keyref> 80 01 <alg> */
#define P11U_INS_PSO           0x2A /* 80 2A 9E 9A (sign) / 80 2A 80 86 (decipher) */
#define P11U_INS_GET_CHALLENGE 0x84 /* 80 84 00 00 <Le> */
#define P11U_INS_GET_RESPONSE  0xC0 /* 00 C0 00 00 <Le> */

#define P11U_MSE_P1_SET      0x41
#define P11U_MSE_P2_SIGN     0xB6
#define P11U_MSE_P2_DECIPHER 0xB8
#define P11U_MSE_TAG_KEYREF  0x84
#define P11U_MSE_TAG_ALG     0x80
#define P11U_PSO_P1_SIGN     0x9E
#define P11U_PSO_P2_SIGN     0x9A
#define P11U_PSO_P1_DECIPHER 0x80
#define P11U_PSO_P2_DECIPHER 0x86
#define P11U_DECIPHER_PAD    0x00 /* padding indicator byte before the cryptogram */

/* Short APDUs; longer command data is chained. */
#define P11U_APDU_DATA_MAX  255
#define P11U_APDU_LE_MAX    256
#define P11U_APDU_CHAIN_MAX 1024 /* total command data of one chain */

/* Files. */
#define P11U_FID_MF             0x3F00
#define P11U_FID_DF_CARD        0x0900
#define P11U_FID_EF_CARD_NUMBER 0x0903
#define P11U_FID_EF_CARD_TYPE   0x0905
#define P11U_FID_DF_PKI         0x5030
#define P11U_FID_EF_CERT_STORE  0x08F2

#define P11U_CARD_TYPE_LEN   24 /* EF 0905: ASCII, padded */
#define P11U_CARD_NUMBER_LEN 16 /* EF 0903: ASCII */
#define P11U_CERT_SLOT_SIZE  0x0700
#define P11U_READ_OFFSET_MAX 0x7FFF /* READ BINARY P1 bit 8 would mean an SFI */

/* Card identity (safety: a real HiCOS card never receives our invented commands). */
#define P11U_TEST_CARD_TYPE    "P11U V1"
#define P11U_TEST_ATR_MARK     "P11UVCARD" /* in the test card's ATR historical bytes */
#define P11U_HICOS_TYPE_PREFIX "CHT V"     /* "CHT V" two digits "N", e.g. "CHT V32N" */

#endif
