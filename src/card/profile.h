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

/* Real HiCOS cards, first generation (gen1): what the public traces of the official middleware
 * show (docs/card-profile.md, "Real cards"), byte for byte.  Nothing else is ever sent to them. */
#define P11U_HICOS_READ_MAX      0xC8 /* READ BINARY: at most 0xC8 bytes per command */
#define P11U_HICOS_CLA_PROTECTED 0x8C /* 8C 20 00 01 20 IV || cryptogram: protected VERIFY */
#define P11U_HICOS_VERIFY_P2     0x01
#define P11U_HICOS_VERIFY_LC     0x20
#define P11U_HICOS_PIN_BLOCK     10   /* the PIN padded with FF */
#define P11U_HICOS_PIN_PAD       0xFF
#define P11U_HICOS_DES_PAD       0x06 /* 06 x6 after the PIN block, and after the MAC */
#define P11U_HICOS_DES_KEY       "CHTTL8f0HiCardV2" /* 16 ASCII bytes: two-key 3DES */
#define P11U_HICOS_INS_RSA       0xEA /* 80 EA 82|02 <keyref> 80 || 128 bytes */
#define P11U_HICOS_RSA_P1_FIRST  0x82
#define P11U_HICOS_RSA_P1_LAST   0x02
#define P11U_HICOS_INS_RSA_REST  0xC1 /* 80 C1 00 80 80: result bytes 128-255 */
#define P11U_HICOS_RSA_HALF      0x80
#define P11U_HICOS_RSA_BYTES     256  /* raw RSA-2048 only */
#define P11U_HICOS_INS_READ_REC  0xB2 /* gen1: 80 B2 <rec> 00 81; gen2: 80 B2 <ref> 03|04 00 */
#define P11U_HICOS_RECORD_LEN    0x81 /* record number + 128 data bytes */
#define P11U_HICOS_RECORD_DATA   0x80
#define P11U_GEN2_REC_P2_FIRST   0x03
#define P11U_GEN2_REC_P2_LAST    0x04

/* Files of DF 5030 on both generations. */
#define P11U_FID_KEY_FILE  0x0810 /* selected before the protected VERIFY and EA; key records */
#define P11U_FID_KEY_FILE2 0x0811 /* key records */
#define P11U_FID_PRKDF     0x4100
#define P11U_FID_PUKDF     0x4101
#define P11U_FID_CDF       0x4104
#define P11U_FID_DODF      0x4107
#define P11U_FID_APPLET    0x7FFF /* gen2: a path element naming the applet */

/* Second generation (gen2): the GPPKI applet, selected by AID; SELECT FID and READ BINARY in
 * class 00 after it. */
#define P11U_GEN2_AID                                                                              \
	{0xA0, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00, 0x06, 0x22, 0x01, 0x69, 0x64, 0x00, 0x01, 0x01, 0x01}
#define P11U_CLA_ISO          0x00
#define P11U_GEN2_SELECT_AID  0x04 /* 00 A4 04 0C 10 <AID> 00 */
#define P11U_GEN2_AID_P2      0x0C
#define P11U_GEN2_SELECT_P2   0x04 /* 00 A4 00 04 02 <FID> 00 */
#define P11U_GEN2_CARD_TYPE   "HiCOS GPPKI" /* the model our tokens show: not read from the card */

/* Card identity (safety: a real HiCOS card never receives our invented commands). */
#define P11U_TEST_CARD_TYPE    "P11U V1"
#define P11U_TEST_ATR_MARK     "P11UVCARD" /* in the test card's ATR historical bytes */
#define P11U_HICOS_TYPE_PREFIX "CHT V"     /* "CHT V" two digits "N", e.g. "CHT V32N" */
/* In a first-generation card's ATR historical bytes. */
#define P11U_HICOS_ATR_MARKS {"CHTMOICA", "CHTGPKIJ"}

#endif
