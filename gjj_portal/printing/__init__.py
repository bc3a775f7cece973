"""Printed documents: the center's seal and QR code, PAdES signing, and the sealed table of a query list.

Helpers here sit at the bottom of the house (ARCHITECTURE.md): they import no app. The apps that
own a document (remittance receipts, members and remittance query lists) draw with them.
"""
