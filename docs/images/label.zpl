^XA
^CI28
^PW800
^LL480
^LH0,0
^FO24,24^A0N,16,16^FB668,1,0,L^FH_^FDCARE-SSc (NCT04356287)^FS
^FO24,43^A0N,20,20^FB668,1,0,L^FH_^FDParticipant : CARE-012   Visite / Visit : month-0^FS
^FO25,43^A0N,20,20^FB668,1,0,L^FH_^FDParticipant : CARE-012   Visite / Visit : month-0^FS
^FO24,68^A0N,20,20^FB668,1,0,L^FH_^FDPoche / Bag : 014D2PF2DBR^FS
^FO25,68^A0N,20,20^FB668,1,0,L^FH_^FDPoche / Bag : 014D2PF2DBR^FS
^FO24,92^A0N,16,16^FB668,1,0,L^FH_^FDContenu / Contents : CSM de cordon ombilical 1 million de cellules/kg ou^FS
^FO24,112^A0N,16,16^FB668,1,0,L^FH_^FDplacebo / UCMSC 1 million cells/kg or placebo^FS
^FO24,131^A0N,16,16^FB668,1,0,L^FH_^FDVolume : 50 mL, PlasmaLyte A^FS
^FO24,151^A0N,16,16^FB668,1,0,L^FH_^FDVoie d'administration / Route : IV   Perfusion / Infusion : 30 min, 100 mL/h^FS
^FO24,170^A0N,16,16^FB668,1,0,L^FH_^FDDébut au plus tard / Start by : 2026-11-25 11:30 EST^FS
^FO24,190^A0N,20,20^FB668,1,0,L^FH_^FDFin de perfusion au plus tard / Infuse by (end of^FS
^FO25,190^A0N,20,20^FB668,1,0,L^FH_^FDFin de perfusion au plus tard / Infuse by (end of^FS
^FO24,214^A0N,20,20^FB668,1,0,L^FH_^FDinfusion) : 2026-11-25 12:00 EST^FS
^FO25,214^A0N,20,20^FB668,1,0,L^FH_^FDinfusion) : 2026-11-25 12:00 EST^FS
^FO24,238^A0N,16,16^FB668,1,0,L^FH_^FDConserver entre 15 et 25 °C. Ne pas réfrigérer. Ne pas irradier.^FS
^FO24,258^A0N,16,16^FB668,1,0,L^FH_^FDStore at 15-25 °C. Do not refrigerate. Do not irradiate.^FS
^FO24,277^A0N,16,16^FB668,1,0,L^FH_^FDPromoteur / Sponsor : Marie Hudson, MD (sponsor-investigator)^FS
^FO24,297^A0N,16,16^FB668,1,0,L^FH_^FDInvestigateur / Investigator : Marie Hudson, MD^FS
^FO24,316^A0N,16,16^FB668,1,0,L^FH_^FDSite : Jewish General Hospital, Montreal^FS
^FO24,336^A0N,16,16^FB668,1,0,L^FH_^FDPour usage dans le cadre d'un essai clinique seulement^FS
^FO24,355^A0N,16,16^FB668,1,0,L^FH_^FDFor clinical trial use only^FS
^FO44,400^BY2^BCN,56,N,N,N,N^FD014D2PF2DBR^FS
^FO712,32^BXN,4,200,14,14^FD014D2PF2DBR^FS
^XZ
